"""Planning's pages and JSON API, one module per resource."""

from inspections.planning.controllers.calendar import CalendarFeedRoute, CalendarPages
from inspections.planning.controllers.monitoring import FieldAPI, MonitoringPages
from inspections.planning.controllers.tasks import TaskPages, TasksAPI

route_handlers = [TaskPages, CalendarPages, CalendarFeedRoute, MonitoringPages, TasksAPI, FieldAPI]
