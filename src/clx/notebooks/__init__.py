"""clx.notebooks"""
