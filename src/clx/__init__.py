"""clx: a course build system."""
