"""Making the store complete: gaps found against the calendar and the feed's own bars, a planner
that splits them into chunks IQFeed can serve, a request budget shared by every worker, and the
executors that fill them."""
