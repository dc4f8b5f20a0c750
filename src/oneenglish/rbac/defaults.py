"""The default permissions and roles. Seeding is idempotent: it adds what is missing, grants a
new permission to the default roles that should have it, and never re-grants what an
administrator removed."""

from __future__ import annotations

# (resource, action, description). `X:read` means "read any X", beyond one's own records.
DEFAULT_PERMISSIONS: tuple[tuple[str, str, str], ...] = (
    ("users", "create", "Create users (administrative sign-up)"),
    ("users", "read", "Read any user"),
    ("users", "update", "Update any user, including activation"),
    ("users", "delete", "Erase any user"),
    ("roles", "create", "Create roles"),
    ("roles", "read", "Read roles"),
    ("roles", "update", "Update roles and their permissions"),
    ("roles", "delete", "Delete roles"),
    ("roles", "assign", "Assign roles to users"),
    ("permissions", "create", "Create permissions"),
    ("permissions", "read", "Read permissions"),
    ("permissions", "update", "Update permissions"),
    ("permissions", "delete", "Delete permissions"),
    ("permissions", "assign", "Grant permissions to users directly"),
    ("courses", "create", "Create courses, and manage the courses one created"),
    ("courses", "read", "Read any course and lesson, published or not"),
    ("courses", "update", "Manage any course and its lessons"),
    ("courses", "delete", "Delete any course, even one with enrollments (forced)"),
    ("enrollments", "read", "Read the enrollments of any course"),
    ("enrollments", "delete", "Remove any learner from a course"),
    ("activity", "read", "Read any user's activity"),
    ("audit_logs", "read", "Read the audit log"),
    ("error_logs", "read", "Read the error log"),
    ("orders", "read", "Read every order, payment and refund, and the revenue reports"),
    ("orders", "refund", "Refund or cancel any order"),
    ("coupons", "manage", "Create and list coupons"),
)

ALL = "*"

# role -> (description, permission names or ALL)
DEFAULT_ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("Administrators: every permission", (ALL,)),
    "teacher": ("Teachers: manage their own courses and lessons", ("courses:create",)),
    "student": ("Learners: their own records only", ()),
}

SELF_SIGN_UP_ROLE = "student"
ADMIN_ROLE = "admin"
TEACHER_ROLE = "teacher"
