package center

// liveRoutes are the pages and forms of this section (issue 16: being built).
func (c *Center) liveRoutes() []route {
	return nil
}
