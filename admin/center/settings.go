package center

// settingsRoutes are the pages and forms of this section (issue 16: being built).
func (c *Center) settingsRoutes() []route {
	return nil
}
