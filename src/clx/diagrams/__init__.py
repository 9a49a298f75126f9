"""clx.diagrams"""
