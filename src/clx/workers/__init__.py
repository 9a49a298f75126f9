"""clx.workers"""
