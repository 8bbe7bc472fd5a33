"""The admin console's pages (/admin): sign-in, agents, set-password links, the audit log, insights.

A first-party page, server-rendered. `admin.session.require_admin` runs before every view: sign-in,
the admin role and a CSRF token on every POST. Every POST that changes something records an
`AdminAction` in the same transaction (`_act`), so the audit log cannot miss one nor show one that
did not happen. Refusals render the console's error page with the status `web/errors.py` gives.
"""
from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from widget_app.admin import audit, charts, connection, insights, lookup, numbers, session, team
from widget_app.admin.session import current_admin
from widget_app.agents.cli import MIN_PASSWORD_LENGTH
from widget_app.agents.signin import authenticate
from widget_app.config import public_base_url
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.core.phone import to_e164
from widget_app.core.text import is_storable
from widget_app.models import db
from widget_app.web.errors import status_for

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(session.require_admin)


@bp.context_processor
def _page_globals():
    return {"signed_in": g.get("admin"), "csrf_token": g.get("csrf_token", "")}


@bp.errorhandler(DomainError)
def _refused(exc: DomainError):
    """A refusal as the console's error page (the sign-in page again for a wrong password)."""
    status = status_for(exc)
    if request.endpoint == "admin.start_signin" and status in (400, 401, 403, 429):
        return render_template("admin/signin.html", error=exc.message), status
    return render_template("admin/error.html", status=status, message=exc.message), status


def _field(name: str, limit: int = 1024) -> str:
    """A form field as text; over ``limit`` characters, a NUL or a lone surrogate is a 400, not a 500 later."""
    value = request.form.get(name, "")
    if len(value) > limit:
        raise DomainError("invalid_field", f"The field '{name}' is too long.", field=name)
    if not is_storable(value):
        raise DomainError("invalid_field", f"The field '{name}' holds characters we cannot store.", field=name)
    return value


def _act(action: str, target: str | None, change, **details):
    """Run an admin's change and record it, in one transaction: both happen or neither."""
    with db.atomic():
        result = change()
        audit.record(current_admin(), action, target, **details)
    return result


# ---- signing in --------------------------------------------------------------------------------

@bp.get("/signin")
def signin():
    return render_template("admin/signin.html", error=None)


@bp.post("/signin")
def start_signin():
    """Email and password under the same brute-force limits as the widget; only an admin gets a session."""
    agent = authenticate(_field("email", 254), _field("password"), request.remote_addr or "unknown")
    if not agent.is_admin:
        raise DomainError("admin_required", "Only an admin can use the admin console.")
    with db.atomic():
        audit.record(agent, "admin.signin", agent.email)
    return session.start_session(redirect(url_for("admin.index")), agent)


@bp.post("/signout")
def signout():
    _act("admin.signout", current_admin().email, lambda: None)
    return session.end_session(redirect(url_for("admin.signin")))


@bp.get("/")
def index():
    return redirect(url_for("admin.insights_page"))


# ---- agents ------------------------------------------------------------------------------------

@bp.get("/agents")
def agents():
    return render_template("admin/agents.html", members=team.team(), roles=team.ROLES)


def _invite_page(agent, status: int = 200):
    link = f"{public_base_url()}{url_for('admin.set_password')}#{team.invite_token(agent)}"
    return render_template("admin/invited.html", agent=agent, link=link,
                           expires_at=team.invite_expires_at()), status


@bp.post("/agents")
def invite():
    """A new agent, and the one-time set-password link the admin hands over (shown once, never stored)."""
    email, name, role = _field("email", 254), _field("name", 255), _field("role", 16)
    agent = _act("agent.invite", email.strip().lower(), lambda: team.invite(email, name, role), role=role)
    return _invite_page(agent, 201)


@bp.post("/agents/<int:agent_id>/link")
def new_link(agent_id):
    """A fresh set-password link for an existing agent (a forgotten password); older links stay valid until used."""
    agent = team.agent_by_id(agent_id)
    _act("agent.password_link", agent.email, lambda: None)
    return _invite_page(agent)


@bp.post("/agents/<int:agent_id>/enabled")
def set_enabled(agent_id):
    agent, enabled = team.agent_by_id(agent_id), _field("enabled", 8) == "yes"
    _act("agent.enable" if enabled else "agent.disable", agent.email, lambda: team.set_enabled(agent, enabled))
    return redirect(url_for("admin.agents"))


@bp.post("/agents/<int:agent_id>/unlock")
def unlock(agent_id):
    agent = team.agent_by_id(agent_id)
    cleared = _act("agent.unlock", agent.email, lambda: team.unlock(agent))
    return render_template("admin/done.html", message=f"Unlocked {agent.email}: {cleared} failed sign-ins forgotten.")


@bp.post("/agents/<int:agent_id>/role")
def set_role(agent_id):
    agent, role = team.agent_by_id(agent_id), _field("role", 16)
    _act("agent.role", agent.email, lambda: team.set_role(agent, role), role=role)
    return redirect(url_for("admin.agents"))


@bp.post("/agents/<int:agent_id>/owner")
def set_owner(agent_id):
    agent, owner = team.agent_by_id(agent_id), _field("owner", 64)
    _act("agent.owner", agent.email, lambda: team.set_owner(agent, owner), owner=owner.strip() or None)
    return redirect(url_for("admin.agents"))


# ---- set-password links (public: the link's token is the credential) ----------------------------

@bp.get("/set-password")
def set_password():
    """The link's page. Its token travels in the URL's fragment, which browsers never send: admin.js puts it
    in the form, so it stays out of server logs and Referer headers."""
    return render_template("admin/set_password.html", error=None, min_length=MIN_PASSWORD_LENGTH)


@bp.post("/set-password")
def save_password():
    token, password, again = _field("token", 512), _field("password"), _field("confirm")
    error = None
    if len(password) < MIN_PASSWORD_LENGTH:
        error = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    elif password != again:
        error = "The two passwords differ."
    if error:
        team.agent_for_invite(token)  # a dead link says so first
        return render_template("admin/set_password.html", error=error, min_length=MIN_PASSWORD_LENGTH), 400
    with db.atomic():
        agent = team.redeem_invite(token, password)
        audit.record(agent, "agent.password_set", agent.email)
    return render_template("admin/password_set.html", agent=agent)


# ---- WhatsApp numbers ----------------------------------------------------------------------------

@bp.get("/numbers")
def numbers_page():
    return render_template("admin/numbers.html", numbers=numbers.numbers())


@bp.post("/numbers")
def add_number():
    e164, name, default = to_e164(_field("e164", 32)), _field("name", 255), _field("default", 8) == "yes"
    _act("number.add", e164, lambda: numbers.add(e164, name, default), name=name.strip(), default=default)
    return redirect(url_for("admin.numbers_page"))


@bp.post("/numbers/default")
def default_number():
    e164 = to_e164(_field("number", 32))
    _act("number.default", e164, lambda: numbers.make_default(e164))
    return redirect(url_for("admin.numbers_page"))


@bp.post("/numbers/hours")
def number_hours():
    e164, tz, spec = to_e164(_field("number", 32)), _field("tz", 64), _field("hours", 512)
    _act("number.hours", e164, lambda: numbers.set_hours(e164, tz, spec), tz=tz.strip(), hours=spec.strip())
    return redirect(url_for("admin.numbers_page"))


@bp.post("/numbers/closed")
def number_closed():
    e164, day = to_e164(_field("number", 32)), _field("date", 10)
    _act("number.closed", e164, lambda: numbers.add_closed_date(e164, day), date=day.strip())
    return redirect(url_for("admin.numbers_page"))


# ---- permissions: a number's ledger ---------------------------------------------------------------

@bp.get("/permissions")
def permissions():
    return render_template("admin/permissions.html", found=None)


@bp.post("/permissions")
def look_up_permission():
    """A POST, not a query string: a contact's number stays out of URLs and access logs. Audited: who looked up whom."""
    phone = to_e164(_field("phone", 32))
    found = _act("permission.lookup", phone, lambda: lookup.lookup(phone))
    return render_template("admin/permissions.html", found=found)


# ---- HubSpot: portals, the calling extension and the outbox -------------------------------------------------------------

@bp.get("/hubspot")
def hubspot():
    return render_template("admin/hubspot.html", portals=connection.portals(), modes=connection.auth_modes(),
                           extension=connection.calling_extension(),
                           outbox=connection.outbox(), counts=connection.outbox_counts())


@bp.post("/hubspot/outbox/<int:sync_id>/retry")
def retry_sync(sync_id):
    """Send a pending or failed write to HubSpot now (the sync worker picks it up on its next pass)."""
    row = connection.outbox_entry(sync_id)
    _act("outbox.retry", f"call {row.call_id}", lambda: connection.retry(row), status=row.status,
         last_error=row.last_error)
    return redirect(url_for("admin.hubspot"))


# ---- the audit log -----------------------------------------------------------------------------

@bp.get("/audit")
def audit_log():
    return render_template("admin/audit.html", actions=audit.recent())


# ---- insights ----------------------------------------------------------------------------------

def _insights() -> insights.Insights:
    args = request.args
    query = insights.parse_query(args.get("start"), args.get("end"), args.get("tz"), args.get("agent"),
                                 args.get("group"), utcnow())
    return insights.compute(query)


@bp.get("/insights")
def insights_page():
    result = _insights()
    return render_template("admin/insights.html", result=result, charts=charts, outcomes=insights.OUTCOMES,
                           words=insights.OUTCOME_WORDS, days=insights.DAYS, agents=team.team(),
                           query_args=request.args.to_dict(), fmt_seconds=_fmt_seconds, fmt_rate=_fmt_rate)


@bp.get("/insights.csv")
def insights_csv():
    chart = request.args.get("chart", "daily")
    if chart not in charts.CHARTS:
        raise DomainError("invalid_field", f"chart must be one of {', '.join(charts.CHARTS)}.", field="chart")
    result = _insights()
    name = f"insights-{chart}-{result.query.start}-{result.query.end}.csv"
    return Response(charts.csv_for(result, chart), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _fmt_seconds(value) -> str:
    if value is None:
        return "–"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{value:g} s"


def _fmt_rate(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"
