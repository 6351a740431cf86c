"""The home page: what each of the caller's roles reaches, as ``GET /me`` finds it: a teacher's
classes and subjects, a class teacher's class, a parent's children, a pupil's diary, the
administration's school; each a link to its page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ejournal.api.deps import AccessLogDep, LedgerDep, NamesDep, ServicesDep
from ejournal.api.routes.me import home as home_read
from ejournal.commands.errors import ROLE_NAMES
from ejournal.web.access import PageCaller, PageRoute
from ejournal.web.frame import frame
from ejournal.web.render import render

router = APIRouter(route_class=PageRoute)


@router.get("/")
def home(
    request: Request,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    log: AccessLogDep,
    names: NamesDep,
) -> Response:
    found = home_read(caller, services, log, names)
    deployment_roles = sorted(
        ROLE_NAMES[grant.role] for grant in caller.actor.grants if grant.school_id is None
    )
    page = frame(
        request,
        caller,
        services,
        home=found,
        role_names=ROLE_NAMES,
        deployment_roles=deployment_roles,
        password_changed=request.query_params.get("password") == "changed",
    )
    return render(request, "home.html", page)
