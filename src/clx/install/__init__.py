"""Installing clx for one's own courses: the tool pins, `clx setup`, `clx doctor`, `clx init`."""
