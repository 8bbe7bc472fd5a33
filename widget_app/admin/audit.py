"""The admin console's audit log: every admin action, written in the same transaction as the action."""
from widget_app.core.clock import utcnow
from widget_app.models import AdminAction, Agent

PAGE = 200  # the audit page shows the newest actions


def record(admin: Agent | None, action: str, target: str | None = None, **details) -> AdminAction:
    """Remember who did what to what; call inside the action's own transaction (both or neither)."""
    return AdminAction.create(admin=admin, admin_email=admin.email if admin else "-", action=action,
                              target=target, details=details or None, created_at=utcnow())


def recent(limit: int = PAGE) -> list[AdminAction]:
    """The newest actions first."""
    return list(AdminAction.select().order_by(AdminAction.created_at.desc(), AdminAction.id.desc()).limit(limit))
