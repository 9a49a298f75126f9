"""Not listed in <subdirs>: this folder is NOT copied."""
