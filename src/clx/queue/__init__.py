"""clx.queue"""
