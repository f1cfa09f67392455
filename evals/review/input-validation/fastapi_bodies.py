"""FastAPI handlers that take the body as a bare dict / Any, or index `await request.json()`,
are flagged; pydantic models, dependencies and validated raw JSON are not."""

from typing import Annotated, Any, Dict

from fastapi import APIRouter, Body, Depends, FastAPI, Request
from pydantic import BaseModel

app = FastAPI()
router = APIRouter(prefix="/v1")


class ProfileIn(BaseModel):
    display_name: str
    locale: str = "en"


def parse_filters(q: str = "") -> dict[str, str]:
    return dict(part.split(":", 1) for part in q.split(",") if ":" in part)


@app.put("/profiles/{user_id}")
async def replace_profile(user_id: int, payload: dict):  # expect: input-validation
    return {"user_id": user_id, **payload}


@router.patch("/profiles/{user_id}")
def update_profile(user_id: int, changes: Dict[str, Any]):  # expect: input-validation
    return {"user_id": user_id, "changed": sorted(changes)}


@router.put("/settings/{user_id}")
async def replace_settings(
    user_id: int,
    settings: Annotated[dict[str, Any] | None, Body()] = None,  # expect: input-validation
):
    return {"user_id": user_id, "settings": settings or {}}


@app.put("/webhooks/echo")
async def echo_event(event: Any):  # expect: input-validation, typing
    return event


@app.post("/webhooks/stripe")
async def stripe_webhook(request: Request):
    event = await request.json()  # expect: input-validation
    if event["type"] == "invoice.paid":
        return {"received": event["id"]}
    return {"ignored": event.get("type")}


@app.put("/profiles/{user_id}/typed")
async def replace_profile_typed(user_id: int, profile: ProfileIn):
    return {"user_id": user_id, "name": profile.display_name}


@router.get("/search")
def search(filters: dict[str, str] = Depends(parse_filters)):
    return {"filters": filters}


@app.post("/webhooks/validated")
async def validated_webhook(request: Request):
    data = await request.json()
    profile = ProfileIn.model_validate(data)
    return {"name": profile.display_name, "locale": data["locale"]}


def merge_settings(defaults: dict, overrides: dict) -> dict:
    return {**defaults, **overrides}


def require_role(roles: list[str]):
    def check(request: Request) -> None:
        if request.headers.get("x-role") not in roles:
            raise PermissionError("forbidden")

    return check


@router.post("/faces/reprocess", dependencies=[Depends(require_role(["admin"]))])
def reprocess_face(request: Request, body: dict = None):
    # operators only: a malformed body fails the admin's own request
    return {"file": str((body or {}).get("training_file", ""))}


@router.post("/notifications/register", dependencies=[Depends(require_role(["admin", "viewer"]))])
def register_notifications(request: Request, body: dict = None):  # expect: input-validation
    return {"subscriptions": [(body or {}).get("sub")]}


@router.post("/config/save")
def save_config(body: Any = Body(media_type="text/plain")):  # expect: typing
    # a YAML document, parsed and validated by the handler: no pydantic model describes it
    return {"length": len(body)}


class CommentIn(BaseModel):
    message: str
    user_id: int


@router.post("/projects/{project_id}/comments")
async def post_comment(request: Request, project_id: int):
    # each field read from the raw JSON goes into a model at once (tasking-manager's DTOs)
    data = await request.json()
    message = data.get("message")
    return CommentIn(message=message, user_id=project_id)


@router.post("/projects/{project_id}/notes")
async def post_note(request: Request, project_id: int):
    data = await request.json()  # expect: input-validation
    note = CommentIn(message=data.get("message"), user_id=project_id)
    return {"note": note.message, "pinned": data["pinned"]}


@router.patch("/profiles/{user_id}/raw")
def patch_profile(user_id: int, changes: dict = Body(...)):
    # the whole body is validated by a model before any use
    return ProfileIn(**changes)


@router.post("/projects/{project_id}/transfer")
def transfer_project(project_id: int, data: dict = Body(...)):
    # a missing key answers 400 before anything trusts the body
    try:
        username = data["username"]
    except KeyError:
        return {"error": "username not provided", "status": 400}
    return {"project": project_id, "owner": username}


@router.post("/projects/{project_id}/archive")
def archive_project(project_id: int, data: dict = Body(...)):  # expect: input-validation
    try:
        reason = data["reason"]
    except ValueError:  # a missing key raises KeyError, which this does not answer
        reason = ""
    return {"project": project_id, "reason": reason}
