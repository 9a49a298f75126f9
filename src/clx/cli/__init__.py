"""clx.cli"""
