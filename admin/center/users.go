package center

// userRoutes are the pages and forms of this section (issue 16: being built).
func (c *Center) userRoutes() []route {
	return nil
}
