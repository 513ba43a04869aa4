"""A small stateful Hugging Face Hub-compatible server for offline tests (stdlib only).

It speaks the part of the Hub's HTTP API that ``huggingface_hub`` (2.4) uses to create repos,
commit files, open pull requests and download files, so the real client runs end to end against
``http://127.0.0.1:<free port>``. The request and response shapes follow huggingface_hub's own
source (``file_download.py``, ``_snapshot_download.py``, ``hf_api.py``, ``_commit_api.py``).

Implemented:

- ``HEAD|GET /{repo}/resolve/{rev}/{path}``: ``X-Repo-Commit``, ``ETag`` (git blob sha1, or the
  sha256 for LFS files, also as ``X-Linked-Etag``), ``Content-Length`` / ``X-Linked-Size``;
  errors typed by ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``).
- ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}``: ``id``, ``sha``,
  ``private``, ``siblings``.
- ``GET /api/models/{repo}/tree/{rev}[/{dir}]``: ``{type, path, size, oid, lfs?}`` (one page).
- ``POST /api/repos/create`` (409 with ``url`` when it exists), ``POST /api/validate-yaml``,
  ``POST /api/models/{repo}/branch/{branch}``, ``GET /api/models/{repo}/refs``.
- ``POST /api/models/{repo}/preupload/{rev}``: every file is "regular" (no LFS/Xet transfer),
  with the current blob's ``oid`` so the client can skip unchanged files.
- ``POST /api/models/{repo}/commit/{rev}[?create_pr=1]``: NDJSON header / file / deletedFile /
  deletedFolder lines, ``parentCommit`` check (412), pull requests as ``refs/pr/N``.
- Tokens: a request whose ``Authorization: Bearer`` is not the configured token gets 401;
  writes need the token; private repos are invisible (401 ``RepoNotFound``) without it.

``*.safetensors`` files are stored with an LFS flag (ETag = sha256), like on the Hub.

Faults (``server.faults``, a :class:`Faults`; the reliability battery sets them): ``hang`` (read
every request, answer none until the fault is cleared or the server stops), ``status`` (answer
every request with that HTTP status), ``cut_after`` (send a file body's headers with its full
length, then only that many bytes, and close the connection) and ``extra_length`` (announce a
file body that many bytes longer than it is, send it whole and close).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["Blob", "Commit", "Faults", "HubServer", "Repo", "running_hub"]

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".npz", ".msgpack")
_SHA = re.compile(r"^[0-9a-f]{40}$")


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob: what the Hub reports as the oid/ETag of a non-LFS file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclasses.dataclass(frozen=True)
class Blob:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def git_oid(self) -> str:
        return git_blob_oid(self.data)

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.git_oid


@dataclasses.dataclass
class Commit:
    sha: str
    parent: str | None
    message: str
    files: dict[str, Blob]


@dataclasses.dataclass
class Repo:
    repo_id: str
    private: bool = False
    branches: dict[str, str] = dataclasses.field(default_factory=dict)  # name -> commit sha
    commits: dict[str, Commit] = dataclasses.field(default_factory=dict)
    pull_requests: list[str] = dataclasses.field(default_factory=list)  # "refs/pr/N" in order

    def resolve(self, revision: str) -> str | None:
        if revision in self.branches:
            return self.branches[revision]
        if _SHA.match(revision) and revision in self.commits:
            return revision
        return None


class _HttpError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}


@dataclasses.dataclass
class Faults:
    """What the server does wrong (all off by default); see the module docstring."""

    hang: bool = False
    status: int | None = None
    cut_after: int | None = None
    extra_length: int = 0

    def clear(self) -> None:
        self.hang, self.status, self.cut_after, self.extra_length = False, None, None, 0


class HubServer:
    """The store plus the HTTP server; ``url`` is the endpoint to give huggingface_hub."""

    def __init__(self, token: str = "hf_zoo_test_token", host: str = "127.0.0.1") -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request served
        self.lock = threading.RLock()
        self._counter = 0
        handler = type("Handler", (_Handler,), {"hub": self})
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread: threading.Thread | None = None
        self.faults = Faults()
        self._stopping = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> HubServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- store -------------------------------------------------------------------------------------
    def _new_sha(self, parent: str | None, message: str, files: dict[str, Blob]) -> str:
        self._counter += 1
        h = hashlib.sha1(f"{self._counter}\0{parent}\0{message}".encode())
        for path in sorted(files):
            h.update(f"{path}\0{files[path].git_oid}\0".encode())
        return h.hexdigest()

    def create_repo(self, repo_id: str, *, private: bool = False) -> Repo:
        with self.lock:
            repo = Repo(repo_id, private=private)
            files = {".gitattributes": Blob(b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
                                            lfs=False)}
            sha = self._new_sha(None, "initial commit", files)
            repo.commits[sha] = Commit(sha, None, "initial commit", files)
            repo.branches["main"] = sha
            self.repos[repo_id] = repo
            return repo

    def commit(self, repo: Repo | str, branch: str, message: str,
               changes: dict[str, bytes | None], *, parent: str | None = None) -> str:
        """Apply ``changes`` (path -> bytes, or None to delete) on ``branch``; return the sha."""
        with self.lock:
            if isinstance(repo, str):
                repo = self.repos[repo]
            head = repo.branches[branch]
            if parent is not None and parent != head:
                raise _HttpError(412, f"A commit has happened since {parent}. Please refresh.")
            files = dict(repo.commits[head].files)
            for path, data in changes.items():
                if data is None:
                    files = {p: b for p, b in files.items()
                             if p != path and not p.startswith(path.rstrip("/") + "/")}
                else:
                    files[path] = Blob(data, lfs=path.endswith(LFS_SUFFIXES))
            sha = self._new_sha(head, message, files)
            repo.commits[sha] = Commit(sha, head, message, files)
            repo.branches[branch] = sha
            return sha

    def head(self, repo_id: str, revision: str = "main") -> str:
        with self.lock:
            return self.repos[repo_id].branches[revision]

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        with self.lock:
            repo = self.repos[repo_id]
            sha = repo.resolve(revision)
            assert sha is not None, revision
            return {p: b.data for p, b in repo.commits[sha].files.items()}

    def commit_count(self, repo_id: str) -> int:
        with self.lock:
            return len(self.repos[repo_id].commits)


@contextlib.contextmanager
def running_hub(token: str = "hf_zoo_test_token") -> Iterator[HubServer]:
    server = HubServer(token).start()
    try:
        yield server
    finally:
        server.stop()


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    server_version = "zoo-test-hub/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing ----------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json", *, file_body: bool = False) -> None:
        faults = self.hub.faults if file_body and self.command == "GET" else Faults()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) + faults.extra_length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            cut = faults.cut_after is not None or faults.extra_length
            self.wfile.write(body if faults.cut_after is None else body[:faults.cut_after])
            if cut:
                self.wfile.flush()
                self.close_connection = True

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        """True with the valid token, False with none; a wrong token is a 401 right away."""
        auth = self.headers.get("Authorization")
        if not auth:
            return False
        if auth != f"Bearer {self.hub.token}":
            raise _HttpError(401, "Invalid credentials in Authorization header")
        return True

    def _repo(self, repo_id: str, *, write: bool = False) -> Repo:
        authorized = self._authorized()
        if write and not authorized:
            raise _HttpError(401, "You must be authenticated to write to this repository")
        repo = self.hub.repos.get(repo_id)
        if repo is None or (repo.private and not authorized):
            raise _HttpError(404 if repo is None else 401, "Repository not found", "RepoNotFound")
        return repo

    def _revision(self, repo: Repo, revision: str) -> Commit:
        sha = repo.resolve(revision)
        if sha is None:
            raise _HttpError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return repo.commits[sha]

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.split("/")[1:]]
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.hub.lock:
            self.hub.requests.append((self.command, parts.path))
        faults = self.hub.faults
        while faults.hang and not self.hub._stopping.wait(0.05):
            pass  # read, never answered (until the fault is cleared)
        if faults.status is not None:
            self._body()
            self._json(faults.status, {"error": "injected fault"})
            return
        try:
            with self.hub.lock:
                self._route(self.command, segments, query)
        except _HttpError as err:
            headers = {"X-Error-Message": err.message, **err.headers}
            if err.code:
                headers["X-Error-Code"] = err.code
            self._json(err.status, {"error": err.message}, headers)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch

    # -- routes ------------------------------------------------------------------------------------
    def _route(self, method: str, seg: list[str], query: dict[str, str]) -> None:
        if seg[:1] == ["api"]:
            if seg[1:3] == ["repos", "create"] and method == "POST":
                return self._create_repo()
            if seg[1:2] == ["validate-yaml"] and method == "POST":
                return self._validate_yaml()
            if seg[1:2] == ["models"] and len(seg) >= 4:
                repo_id, rest = f"{seg[2]}/{seg[3]}", seg[4:]
                return self._model_api(method, repo_id, rest, query)
            raise _HttpError(404, f"no route for {method} {self.path}")
        if len(seg) >= 5 and seg[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(f"{seg[0]}/{seg[1]}", seg[3], "/".join(seg[4:]))
        raise _HttpError(404, f"no route for {method} {self.path}")

    def _model_api(self, method: str, repo_id: str, rest: list[str], query: dict[str, str]) -> None:
        if method == "GET" and not rest:
            return self._info(repo_id, "main")
        if method == "GET" and rest[0] == "revision" and len(rest) == 2:
            return self._info(repo_id, rest[1])
        if method == "GET" and rest[0] == "tree" and len(rest) >= 2:
            return self._tree(repo_id, rest[1], "/".join(rest[2:]), query)
        if method == "GET" and rest == ["refs"]:
            return self._refs(repo_id)
        if method == "POST" and rest[0] == "preupload" and len(rest) == 2:
            return self._preupload(repo_id, rest[1])
        if method == "POST" and rest[0] == "commit" and len(rest) == 2:
            return self._commit(repo_id, rest[1], query.get("create_pr") == "1")
        if method == "POST" and rest[0] == "branch" and len(rest) == 2:
            return self._create_branch(repo_id, rest[1])
        raise _HttpError(404, f"no route for {method} {self.path}")

    def _create_repo(self) -> None:
        if not self._authorized():
            raise _HttpError(401, "You must be authenticated to create a repository")
        payload = json.loads(self._body() or b"{}")
        if payload.get("type", "model") != "model":
            raise _HttpError(400, "this test server only hosts model repositories")
        repo_id = f"{payload.get('organization') or 'user'}/{payload['name']}"
        url = f"{self.hub.url}/{repo_id}"
        if repo_id in self.hub.repos:
            return self._json(409, {"error": "You already created this model repo", "url": url})
        self.hub.create_repo(repo_id, private=payload.get("visibility") == "private")
        self._json(200, {"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self) -> None:
        payload = json.loads(self._body() or b"{}")
        content = payload.get("content", "")
        if content.startswith("---") and "\n---" not in content[3:]:
            return self._json(400, {"errors": [{"message": "unterminated YAML front matter"}],
                                    "warnings": []})
        self._json(200, {"errors": [], "warnings": []})

    def _info(self, repo_id: str, revision: str) -> None:
        repo = self._repo(repo_id)
        commit = self._revision(repo, revision)
        siblings = []
        for path, blob in sorted(commit.files.items()):
            sib: dict[str, Any] = {"rfilename": path, "size": len(blob.data),
                                   "blobId": blob.git_oid}
            if blob.lfs:
                sib["lfs"] = {"size": len(blob.data), "sha256": blob.sha256, "pointerSize": 134}
            siblings.append(sib)
        self._json(200, {"id": repo_id, "modelId": repo_id, "sha": commit.sha,
                         "private": repo.private, "siblings": siblings, "tags": []})

    def _tree(self, repo_id: str, revision: str, prefix: str, query: dict[str, str]) -> None:
        repo = self._repo(repo_id)
        commit = self._revision(repo, revision)
        recursive = query.get("recursive", "False").lower() == "true"
        base = prefix.rstrip("/") + "/" if prefix else ""
        entries: list[dict[str, Any]] = []
        folders: set[str] = set()
        for path, blob in sorted(commit.files.items()):
            if not path.startswith(base):
                continue
            rel = path[len(base):]
            if "/" in rel and not recursive:
                folders.add(base + rel.split("/", 1)[0])
                continue
            entry: dict[str, Any] = {"type": "file", "path": path, "size": len(blob.data),
                                     "oid": blob.git_oid}
            if blob.lfs:
                entry["lfs"] = {"oid": blob.sha256, "size": len(blob.data), "pointerSize": 134}
            entries.append(entry)
        if prefix and not entries and not folders:
            raise _HttpError(404, f"{prefix} does not exist on {revision}", "EntryNotFound")
        entries += [{"type": "directory", "path": f, "oid": "0" * 40, "size": 0}
                    for f in sorted(folders)]
        self._json(200, entries)

    def _refs(self, repo_id: str) -> None:
        repo = self._repo(repo_id)
        branches = [{"name": n, "ref": f"refs/heads/{n}", "targetCommit": s}
                    for n, s in repo.branches.items() if not n.startswith("refs/pr/")]
        prs = [{"name": n, "ref": n, "targetCommit": repo.branches[n]}
               for n in repo.pull_requests]
        self._json(200, {"branches": branches, "converts": [], "tags": [], "pullRequests": prs})

    def _resolve(self, repo_id: str, revision: str, path: str) -> None:
        repo = self._repo(repo_id)
        commit = self._revision(repo, revision)
        blob = commit.files.get(path)
        if blob is None:
            raise _HttpError(404, f"Entry not found: {path}", "EntryNotFound",
                             {"X-Repo-Commit": commit.sha})
        headers = {"X-Repo-Commit": commit.sha, "ETag": f'"{blob.etag}"',
                   "Accept-Ranges": "none"}
        if blob.lfs:
            headers |= {"X-Linked-Etag": f'"{blob.sha256}"', "X-Linked-Size": str(len(blob.data))}
        self._send(200, blob.data, headers, content_type="application/octet-stream",
                   file_body=True)

    def _preupload(self, repo_id: str, revision: str) -> None:
        repo = self._repo(repo_id, write=True)
        current = self._revision(repo, revision).files
        payload = json.loads(self._body() or b"{}")
        files = []
        for f in payload.get("files", []):
            blob = current.get(f["path"])
            files.append({"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                          "oid": blob.git_oid if blob is not None else None})
        self._json(200, {"files": files, "commitOid": self._revision(repo, revision).sha})

    def _create_branch(self, repo_id: str, branch: str) -> None:
        repo = self._repo(repo_id, write=True)
        if branch.startswith("refs/"):
            raise _HttpError(400, f"Invalid reference for a branch: {branch}")
        if branch in repo.branches:
            raise _HttpError(409, f"Reference already exists: refs/heads/{branch}")
        payload = json.loads(self._body() or b"{}")
        start = self._revision(repo, payload.get("startingPoint") or "main")
        repo.branches[branch] = start.sha
        self._json(200, {})

    def _commit(self, repo_id: str, revision: str, create_pr: bool) -> None:
        repo = self._repo(repo_id, write=True)
        base = self._revision(repo, revision)
        if revision not in repo.branches:
            raise _HttpError(400, f"Cannot commit to {revision}: it is not a branch")
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        header = next((ln["value"] for ln in lines if ln.get("key") == "header"), None)
        if header is None or not header.get("summary"):
            raise _HttpError(400, "the commit payload needs a header line with a summary")
        changes: dict[str, bytes | None] = {}
        for line in lines:
            key, value = line.get("key"), line.get("value", {})
            if key == "file":
                if value.get("encoding", "base64") != "base64":
                    raise _HttpError(400, f"unsupported encoding {value.get('encoding')!r}")
                changes[value["path"]] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                changes[value["path"]] = None
            elif key == "lfsFile":
                raise _HttpError(422, "LFS uploads are not supported here (preupload says "
                                      "'regular'); this client did not follow it")
            elif key != "header":
                raise _HttpError(400, f"unknown commit operation {key!r}")
        parent = header.get("parentCommit")
        if parent is not None and parent != base.sha:
            raise _HttpError(412, f"A commit has happened since {parent}. Please refresh.")
        branch = revision
        pr_num = None
        if create_pr:
            pr_num = len(repo.pull_requests) + 1
            branch = f"refs/pr/{pr_num}"
            repo.pull_requests.append(branch)
            repo.branches[branch] = base.sha
        sha = self.hub.commit(repo, branch, header["summary"], changes)
        data: dict[str, Any] = {"success": True, "commitOid": sha,
                                "commitUrl": f"{self.hub.url}/{repo_id}/commit/{sha}"}
        if pr_num is not None:
            data["pullRequestUrl"] = f"{self.hub.url}/{repo_id}/discussions/{pr_num}"
        self._json(200, data)
