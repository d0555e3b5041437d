"""The Panel server: param-driven dashboard components, shared by every notebook in dashboards/.

Empty until the dashboards issue; layers point one way: dashboards -> app -> oss20.
"""
