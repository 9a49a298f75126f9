"""clx.build"""
