"""Request handlers that keep state in the process, and look-alikes that do not."""

from collections import defaultdict

from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()

SESSIONS: dict[str, str] = {}
ATTEMPTS = defaultdict(int)
RECENT: list[str] = []
ALLOWED_ORIGINS = {"https://shop.example"}
SETTINGS = {"page_size": 50}


@app.post("/login")
async def login(username: str, session_id: str) -> dict[str, str]:
    ATTEMPTS[username] += 1  # expect: stateless
    SESSIONS[session_id] = username  # expect: stateless
    return {"session_id": session_id}


@router.post("/events")
def record(event_id: str) -> None:
    RECENT.append(event_id)  # expect: stateless


@app.delete("/sessions/{session_id}")
async def logout(session_id: str) -> None:
    del SESSIONS[session_id]  # expect: stateless


@app.get("/me")
async def me(session_id: str) -> dict[str, str]:
    return {"user": SESSIONS.get(session_id, "")}


@app.get("/origins")
def origins() -> list[str]:
    local = {}
    local["a"] = 1
    return sorted(ALLOWED_ORIGINS)


def warm_up() -> None:
    SETTINGS["page_size"] = 100
