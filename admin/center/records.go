package center

// recordRoutes are the pages and forms of this section (issue 16: being built).
func (c *Center) recordRoutes() []route {
	return nil
}
