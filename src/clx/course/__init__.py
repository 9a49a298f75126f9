"""clx.course"""
