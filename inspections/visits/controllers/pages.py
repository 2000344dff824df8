"""(being built)"""

route_handlers: list = []
