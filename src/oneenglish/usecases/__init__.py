"""Writes of one database that span several domains and belong to none of them (the lessons
domain publishes a lesson; what that does to every enrollment's progress is the enrollments
domain's rule): a use case calls each domain's service, in the request's transaction."""
