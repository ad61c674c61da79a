#!/usr/bin/env python3
"""Runs a GitHub Actions workflow's jobs, or one composite action, on this
machine the way a GitHub runner runs them, for the tests (t_ci_github*.sh).

  ghactions.py action DIR [--input NAME=VALUE]... [OPTIONS]
  ghactions.py workflow FILE [--job ID]... [--matrix KEY=VALUE]... [OPTIONS]

As GitHub does:
- a `run:` step is written to a file in RUNNER_TEMP and run by its shell
  (`bash`: bash --noprofile --norc -eo pipefail FILE; none given: bash -e
  FILE; `sh`: sh -e FILE; or a command with {0}) in its working-directory
  (relative to the workspace), once every ${{ ... }} in its run, env,
  working-directory and name is replaced; its `if:` decides whether it runs
  (success() when there is none, and added when no status function is named);
- each step gets fresh GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV and
  GITHUB_PATH files: what it writes to GITHUB_ENV (NAME=VALUE or
  NAME<<DELIMITER) is set for the later steps, what it writes to GITHUB_PATH
  goes in front of their PATH, GITHUB_OUTPUT becomes steps.ID.outputs;
- a composite action (`uses: ./PATH` in the workspace, or OWNER/REPO/PATH@REF
  when --action OWNER/REPO@REF=DIR says where that repository is) gets its
  inputs from `with:` and the defaults of its action.yml, runs its steps
  with GITHUB_ACTION_PATH set, and its outputs are computed from its
  `outputs:` section. A remote action is laid (as a symbolic link) at
  WORK/_actions/OWNER/REPO/REF, where GitHub downloads it. In its steps
  GITHUB_ACTION_REPOSITORY and github.action_repository are empty, as
  GitHub leaves them (actions/runner#2473), so an action cannot rely on them;
- jobs run in `needs:` order, each in a fresh workspace and RUNNER_TEMP
  under WORK, with env from the workflow and the job, `defaults.run`, and
  `outputs:` passed on as needs.JOB.outputs; a matrix is expanded into legs
  (--matrix KEY=VALUE keeps the legs whose KEY is VALUE).
Instead of GitHub:
- actions/checkout@* copies --checkout DIR into the workspace;
- actions/upload-artifact@* copies `path` to WORK/_artifacts/NAME, and
  actions/download-artifact@* copies it from there into `path`;
- any other action, a JavaScript or Docker action, and any expression or
  function this runner does not know are refused (exit 2), not guessed;
- runs-on, permissions, environment, concurrency and triggers are ignored.
The step's own stdout and stderr pass through; a "##[step] JOB: NAME" line
comes before each step and a "##[job] JOB: RESULT" line after each job.
--result FILE gets every job's result, outputs and steps (id, name,
outcome, outputs, seconds) as JSON. Exit 0 when every job succeeded, 1 when one
failed, 2 on bad usage or something unsupported.
"""
import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml


class Unsupported(Exception):
    """Something in the workflow this runner does not implement."""


# ---- expressions ------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:
    (?P<num>\d+(?:\.\d+)?) |
    (?P<str>'(?:[^']|'')*') |
    (?P<op>==|!=|<=|>=|&&|\|\||[<>!().,\[\]*]) |
    (?P<name>[A-Za-z_][A-Za-z0-9_-]*))""", re.X)
_STATUS_FUNCS = re.compile(r"\b(success|failure|always|cancelled)\s*\(")


def to_str(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v, indent=2)
    return str(v)


def truthy(v):
    return not (v is None or v is False or v == "" or v == 0)


def _lookup(obj, key):
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for k, v in obj.items():  # property names are case-insensitive
            if isinstance(k, str) and k.lower() == key.lower():
                return v
        return None
    if isinstance(obj, list) and isinstance(key, (int, float)):
        i = int(key)
        return obj[i] if 0 <= i < len(obj) else None
    return None


def _loose_eq(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if isinstance(a, (int, float, bool)) or isinstance(b, (int, float, bool)):
        try:
            return float(a if a != "" else 0) == float(b if b != "" else 0)
        except (TypeError, ValueError):
            return False
    return a == b


class Expr:
    """One ${{ }} expression, evaluated against a dict of contexts."""

    def __init__(self, text, ctx):
        self.text = text
        self.ctx = ctx
        self.toks = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise Unsupported("cannot parse expression '%s' at '%s'" % (text, text[pos:]))
            pos = m.end()
            kind = m.lastgroup
            self.toks.append((kind, m.group(kind)))
        self.i = 0

    def value(self):
        v = self._or()
        if self.i != len(self.toks):
            raise Unsupported("unexpected '%s' in expression '%s'" % (self.toks[self.i][1], self.text))
        return v

    def _peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def _take(self, op=None):
        t = self._peek()
        if op is not None and t != ("op", op):
            raise Unsupported("expected '%s' in expression '%s'" % (op, self.text))
        self.i += 1
        return t

    def _or(self):
        v = self._and()
        while self._peek() == ("op", "||"):
            self._take()
            r = self._and()
            v = v if truthy(v) else r
        return v

    def _and(self):
        v = self._cmp()
        while self._peek() == ("op", "&&"):
            self._take()
            r = self._cmp()
            v = r if truthy(v) else v
        return v

    def _cmp(self):
        v = self._unary()
        t = self._peek()
        if t[0] == "op" and t[1] in ("==", "!=", "<", ">", "<=", ">="):
            self._take()
            r = self._unary()
            if t[1] == "==":
                return _loose_eq(v, r)
            if t[1] == "!=":
                return not _loose_eq(v, r)
            try:
                a, b = float(v), float(r)
            except (TypeError, ValueError):
                return False
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[t[1]]
        return v

    def _unary(self):
        if self._peek() == ("op", "!"):
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self):
        kind, tok = self._take()
        if kind == "num":
            return float(tok) if "." in tok else int(tok)
        if kind == "str":
            return tok[1:-1].replace("''", "'")
        if (kind, tok) == ("op", "("):
            v = self._or()
            self._take(")")
            return v
        if kind != "name":
            raise Unsupported("unexpected '%s' in expression '%s'" % (tok, self.text))
        if tok in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[tok]
        if self._peek() == ("op", "("):
            self._take()
            args = []
            while self._peek() != ("op", ")"):
                args.append(self._or())
                if self._peek() == ("op", ","):
                    self._take()
            self._take(")")
            return self._call(tok, args)
        if tok not in self.ctx:
            raise Unsupported("unknown context '%s' in expression '%s'" % (tok, self.text))
        v = self.ctx[tok]
        while True:
            t = self._peek()
            if t == ("op", "."):
                self._take()
                k, name = self._take()
                if k != "name":
                    raise Unsupported("expected a property name in expression '%s'" % self.text)
                v = _lookup(v, name)
            elif t == ("op", "["):
                self._take()
                key = self._or()
                self._take("]")
                v = _lookup(v, key)
            else:
                return v

    def _call(self, name, args):
        status = self.ctx.get("__status", "success")
        f = name.lower()
        if f == "success":
            return status == "success"
        if f == "failure":
            return status == "failure"
        if f == "always":
            return True
        if f == "cancelled":
            return False
        if f == "contains" and len(args) == 2:
            if isinstance(args[0], list):
                return any(_loose_eq(x, args[1]) for x in args[0])
            return to_str(args[1]).lower() in to_str(args[0]).lower()
        if f == "startswith" and len(args) == 2:
            return to_str(args[0]).lower().startswith(to_str(args[1]).lower())
        if f == "endswith" and len(args) == 2:
            return to_str(args[0]).lower().endswith(to_str(args[1]).lower())
        if f == "format" and args:
            return re.sub(r"\{(\d+)\}", lambda m: to_str(args[1 + int(m.group(1))]), to_str(args[0]))
        if f == "join" and args:
            sep = to_str(args[1]) if len(args) > 1 else ","
            return sep.join(to_str(x) for x in args[0]) if isinstance(args[0], list) else to_str(args[0])
        if f == "tojson" and len(args) == 1:
            return json.dumps(args[0], indent=2)
        if f == "fromjson" and len(args) == 1:
            return json.loads(to_str(args[0]))
        raise Unsupported("function '%s' with %d argument(s) is not supported" % (name, len(args)))


def evaluate(text, ctx):
    return Expr(text, ctx).value()


def substitute(value, ctx):
    """A string with every ${{ expr }} replaced by the value's string."""
    if not isinstance(value, str):
        return to_str(value)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: to_str(evaluate(m.group(1), ctx)), value, flags=re.S)


def condition(text, ctx):
    """The value of an `if:` (with or without ${{ }})."""
    if text is None or text == "":
        text = "success()"
    text = to_str(text).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", text, flags=re.S)
    if m:
        text = m.group(1)
    if not _STATUS_FUNCS.search(text):
        text = "success() && (%s)" % text
    return truthy(evaluate(text, ctx))


# ---- runner files -----------------------------------------------------------

def read_kv_file(path):
    """NAME=VALUE and NAME<<DELIMITER ... DELIMITER lines, as a dict."""
    out = {}
    try:
        lines = open(path, encoding="utf-8").read().split("\n")
    except FileNotFoundError:
        return out
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        m = re.match(r"^([^=<]+)<<(.+)$", line)
        if m and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim, body = m.group(1), m.group(2), []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise Unsupported("'%s': no closing '%s' for '%s'" % (path, delim, name))
            i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise Unsupported("'%s': cannot read the line '%s'" % (path, line))
    return out


def copy_into(src, dst):
    """Copies the file or folder src to dst (a folder's contents into dst)."""
    if os.path.isdir(src):
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        shutil.copy2(src, dst)


# ---- the runner -----------------------------------------------------------------

class Job:
    """What the steps of one job share: the env and PATH additions carried
    from step to step, and whether a step has failed."""

    def __init__(self, runner, job_id, workspace, temp, defaults):
        self.runner = runner
        self.id = job_id
        self.label = job_id
        self.workspace = workspace
        self.temp = temp
        self.static_env = {}  # the workflow's and the job's env
        self.file_env = {}  # what steps wrote to GITHUB_ENV
        self.path_adds = []  # what steps wrote to GITHUB_PATH, in order
        self.defaults = defaults
        self.ctx = None
        self.status = "success"
        self.summary = []
        self.nstep = 0

    def env_ctx(self, step_env=None):
        e = dict(self.static_env)
        e.update(self.file_env)
        e.update(step_env or {})
        return e

    def process_env(self, step_env, action_path=None):
        r = self.runner
        e = dict(os.environ)
        g = self.ctx["github"]
        e.update({
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": self.workspace,
            "GITHUB_SHA": g["sha"], "GITHUB_REF": g["ref"], "GITHUB_REF_NAME": g["ref_name"],
            "GITHUB_REPOSITORY": g["repository"], "GITHUB_REPOSITORY_OWNER": g["repository_owner"],
            "GITHUB_ACTOR": g["actor"], "GITHUB_EVENT_NAME": g["event_name"],
            "GITHUB_SERVER_URL": g["server_url"], "GITHUB_API_URL": g["api_url"],
            "GITHUB_RUN_ID": g["run_id"], "GITHUB_RUN_NUMBER": g["run_number"],
            "GITHUB_WORKFLOW": g["workflow"], "GITHUB_JOB": self.id,
            "RUNNER_TEMP": self.temp, "RUNNER_TOOL_CACHE": r.tool_cache, "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64", "RUNNER_NAME": "ghactions.py", "RUNNER_WORKSPACE": r.work,
        })
        if action_path:
            e["GITHUB_ACTION_PATH"] = action_path
            e["GITHUB_ACTION_REPOSITORY"] = ""
            e["GITHUB_ACTION_REF"] = ""
        e.update(self.static_env)
        e.update(self.file_env)
        e.update(step_env)
        if self.path_adds:
            e["PATH"] = os.pathsep.join(list(reversed(self.path_adds)) + [e.get("PATH", "")])
        return e

    def run_steps(self, steps, ctx, env_outer, action_path=None):
        """Runs a list of steps (a job's, or a composite action's) with the
        contexts ctx; fills ctx['steps']. Returns the step records."""
        records = []
        for n, step in enumerate(steps):
            sid = step.get("id") or "__step%d" % n
            ctx["__status"] = self.status
            ctx["env"] = self.env_ctx(env_outer)
            rec = {"id": step.get("id"), "outputs": {}}
            name = substitute(step.get("name") or step.get("run", step.get("uses", "")).split("\n")[0], ctx)
            rec["name"] = name
            if not condition(step.get("if"), ctx):
                rec["outcome"] = "skipped"
                print("##[step] %s: %s (skipped)" % (self.label, name), flush=True)
                ctx["steps"][sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                records.append(rec)
                continue
            step_env = dict(env_outer)
            for k, v in (step.get("env") or {}).items():
                step_env[k] = substitute(v, ctx)
            ctx["env"] = self.env_ctx(step_env)
            print("##[step] %s: %s" % (self.label, name), flush=True)
            start = time.monotonic()
            if "run" in step:
                ok, outputs = self.run_shell(step, ctx, step_env, action_path)
            elif "uses" in step:
                ok, outputs, sub = self.runner.uses(self, step, ctx, step_env)
                if sub is not None:
                    rec["steps"] = sub
            else:
                raise Unsupported("%s: a step with neither run nor uses" % self.label)
            outcome = "success" if ok else "failure"
            conclusion = outcome
            if not ok and substitute(step.get("continue-on-error", False), ctx).strip().lower() == "true":
                conclusion = "success"
            if conclusion == "failure":
                self.status = "failure"
            rec.update(outcome=outcome, outputs=outputs, seconds=round(time.monotonic() - start, 3))
            ctx["steps"][sid] = {"outputs": outputs, "outcome": outcome, "conclusion": conclusion}
            records.append(rec)
        return records

    def step_files(self):
        self.nstep += 1
        d = os.path.join(self.temp, "_runner_file_commands", "step%d" % self.nstep)
        os.makedirs(d)
        files = {}
        for k, f in (("GITHUB_OUTPUT", "output"), ("GITHUB_STEP_SUMMARY", "summary"),
                     ("GITHUB_ENV", "env"), ("GITHUB_PATH", "path")):
            files[k] = os.path.join(d, f)
            open(files[k], "w").close()
        return files

    def after_step(self, files):
        """Carries GITHUB_ENV and GITHUB_PATH on; returns the step outputs."""
        self.file_env.update(read_kv_file(files["GITHUB_ENV"]))
        for line in open(files["GITHUB_PATH"], encoding="utf-8"):
            if line.strip():
                self.path_adds.append(line.rstrip("\n"))
        s = open(files["GITHUB_STEP_SUMMARY"], encoding="utf-8").read()
        if s:
            self.summary.append(s)
        return read_kv_file(files["GITHUB_OUTPUT"])

    def run_shell(self, step, ctx, step_env, action_path):
        shell = step.get("shell") or self.defaults.get("shell")
        if action_path and not shell:
            raise Unsupported("a composite action's run step needs a shell")
        wd = substitute(step.get("working-directory") or self.defaults.get("working-directory") or "", ctx)
        cwd = os.path.normpath(os.path.join(self.workspace, wd)) if wd else self.workspace
        script = substitute(step["run"], ctx)
        fd, path = tempfile.mkstemp(suffix=".sh", dir=self.temp)
        with os.fdopen(fd, "w") as f:
            f.write(script)
        templates = {None: "bash -e {0}", "bash": "bash --noprofile --norc -eo pipefail {0}",
                     "sh": "sh -e {0}", "python": "python3 {0}"}
        tmpl = templates.get(shell, shell)
        if "{0}" not in tmpl:
            raise Unsupported("shell '%s' is not supported" % shell)
        cmd = [path if a == "{0}" else a for a in tmpl.split()]
        files = self.step_files()
        env = self.process_env(step_env, action_path)
        env.update(files)
        if not os.path.isdir(cwd):
            print("##[error]the working directory '%s' does not exist" % cwd, flush=True)
            return False, {}
        rc = subprocess.call(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL)
        outputs = self.after_step(files)
        if rc != 0:
            print("##[error]Process completed with exit code %d." % rc, flush=True)
        return rc == 0, outputs


class Runner:
    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.work)
        os.makedirs(self.work, exist_ok=True)
        self.tool_cache = os.path.abspath(args.tool_cache or os.path.join(self.work, "_tool"))
        os.makedirs(self.tool_cache, exist_ok=True)
        self.artifacts = os.path.join(self.work, "_artifacts")
        self.actions = dict(kv(a, "--action") for a in args.action)
        self.secrets = dict(kv(s, "--secret") for s in args.secret)
        g = {
            "sha": "0123456789abcdef0123456789abcdef01234567", "ref": "refs/heads/main",
            "ref_name": "main", "repository": "acme/models", "actor": "octocat",
            "event_name": "push", "server_url": "https://github.com",
            "api_url": "https://api.github.com", "run_id": "1", "run_number": "1",
            "workflow": "", "token": "ghs_fake-token-for-tests",
        }
        g.update(kv(x, "--github") for x in args.github)
        g.setdefault("repository_owner", g["repository"].split("/")[0])
        self.github = g
        self.secrets.setdefault("GITHUB_TOKEN", g["token"])

    def contexts(self, job, matrix, needs):
        g = dict(self.github, workspace=job.workspace, job=job.id, action_path="",
                 action_repository="", action_ref="")
        return {"github": g, "runner": {"temp": job.temp, "tool_cache": self.tool_cache,
                                        "os": "Linux", "arch": "X64", "name": "ghactions.py"},
                "env": {}, "secrets": self.secrets, "matrix": matrix, "needs": needs,
                "steps": {}, "job": {"status": "success"}, "strategy": {}, "vars": {},
                "inputs": {}}

    def uses(self, job, step, ctx, step_env):
        """Runs a `uses:` step; returns (ok, outputs, sub-step records)."""
        ref = substitute(step["uses"], ctx)
        w = {k: substitute(v, ctx) for k, v in (step.get("with") or {}).items()}
        name = ref.split("@")[0]
        if name == "actions/checkout":
            copy_into(self.args.checkout, job.workspace)
            return True, {}, None
        if name == "actions/upload-artifact":
            src = os.path.join(job.workspace, w.get("path", ""))
            dst = os.path.join(self.artifacts, w.get("name", "artifact"))
            if not os.path.exists(src):
                print("##[warning]No files were found with the provided path: %s" % w.get("path"), flush=True)
                return True, {}, None
            copy_into(src, dst if os.path.isdir(src) else os.path.join(dst, os.path.basename(src)))
            return True, {}, None
        if name == "actions/download-artifact":
            src = os.path.join(self.artifacts, w.get("name", "artifact"))
            if not os.path.isdir(src):
                print("##[error]Artifact not found: %s" % w.get("name"), flush=True)
                return False, {}, None
            copy_into(src, os.path.join(job.workspace, w.get("path", "")))
            return True, {}, None
        if ref.startswith("/") or ref.startswith("./"):
            path = os.path.normpath(os.path.join(job.workspace, ref))
        else:
            m = re.fullmatch(r"([^/@]+)/([^/@]+)(/[^@]*)?@(.+)", ref)
            if not m or "%s/%s@%s" % (m.group(1), m.group(2), m.group(4)) not in self.actions:
                raise Unsupported("action '%s' is not known to this runner (--action OWNER/REPO@REF=DIR)" % ref)
            owner, repo, sub, at = m.groups()
            root = os.path.join(self.work, "_actions", owner, repo, at)
            if not os.path.exists(root):
                os.makedirs(os.path.dirname(root), exist_ok=True)
                os.symlink(os.path.abspath(self.actions["%s/%s@%s" % (owner, repo, at)]), root)
            path = root + (sub or "")
        ok, outputs, sub = self.composite(job, path, w, ctx, step_env)
        return ok, outputs, sub

    def composite(self, job, path, with_, caller_ctx, step_env):
        meta = None
        for f in ("action.yml", "action.yaml"):
            if os.path.isfile(os.path.join(path, f)):
                meta = yaml.safe_load(open(os.path.join(path, f), encoding="utf-8"))
                break
        if meta is None:
            raise Unsupported("no action.yml in '%s'" % path)
        if meta.get("runs", {}).get("using") != "composite":
            raise Unsupported("'%s' is not a composite action" % path)
        ctx = dict(caller_ctx)
        ctx["github"] = dict(caller_ctx["github"], action_path=path)
        ctx["steps"] = {}
        for k in ("secrets", "matrix", "needs", "strategy"):  # not available in composite actions
            ctx.pop(k, None)
        declared = meta.get("inputs") or {}
        inputs = {}
        for k, spec in declared.items():
            if k in with_:
                inputs[k] = with_[k]
            else:
                inputs[k] = substitute((spec or {}).get("default", ""), ctx)
        for k in with_:
            if k not in declared:
                print("##[warning]Unexpected input '%s', valid inputs are %s" % (k, sorted(declared)), flush=True)
        ctx["inputs"] = inputs
        saved = job.status
        job.status = "success"
        records = job.run_steps(meta["runs"].get("steps") or [], ctx, step_env, action_path=path)
        ok = job.status == "success"
        job.status = saved
        ctx["__status"] = "success" if ok else "failure"
        ctx["env"] = job.env_ctx(step_env)
        outputs = {k: substitute((spec or {}).get("value", ""), ctx) for k, spec in (meta.get("outputs") or {}).items()}
        return ok, outputs, records

    def run_job(self, job_id, jdef, wf, matrix, needs):
        label = job_id
        if matrix:
            label += " (%s)" % ", ".join(to_str(v) for v in matrix.values())
        d = os.path.join(self.work, re.sub(r"[^A-Za-z0-9_.-]+", "_", label))
        if os.path.exists(d):
            shutil.rmtree(d)
        ws = os.path.abspath(self.args.workspace) if self.args.workspace else os.path.join(d, "workspace")
        temp = os.path.join(d, "temp")
        os.makedirs(ws, exist_ok=True)
        os.makedirs(temp)
        defaults = dict(((wf.get("defaults") or {}).get("run") or {}))
        defaults.update(((jdef.get("defaults") or {}).get("run") or {}))
        job = Job(self, job_id, ws, temp, defaults)
        job.label = label
        ctx = self.contexts(job, matrix, needs)
        ctx["github"]["workflow"] = to_str(wf.get("name", ""))
        job.ctx = ctx
        job.static_env = {k: substitute(v, ctx) for k, v in (wf.get("env") or {}).items()}
        ctx["env"] = dict(job.static_env)
        job.static_env.update({k: substitute(v, ctx) for k, v in (jdef.get("env") or {}).items()})
        if "name" in jdef:
            job.label = substitute(jdef["name"], ctx)
        ctx["env"] = job.env_ctx()
        ctx["__status"] = "success"
        if jdef.get("if") is not None and not condition(jdef["if"], ctx):
            print("##[job] %s: skipped" % job.label, flush=True)
            return {"result": "skipped", "outputs": {}, "steps": []}
        if "uses" in jdef:
            raise Unsupported("job '%s': reusable workflows are not supported" % job_id)
        records = job.run_steps(jdef.get("steps") or [], ctx, {})
        ctx["__status"] = job.status
        outputs = {k: substitute(v, ctx) for k, v in (jdef.get("outputs") or {}).items()}
        summary = os.path.join(d, "summary.md")
        with open(summary, "w", encoding="utf-8") as f:
            f.write("".join(job.summary))
        print("##[job] %s: %s" % (job.label, job.status), flush=True)
        return {"result": job.status, "outputs": outputs, "steps": records, "workspace": ws,
                "summary": summary, "matrix": matrix}

    def run_workflow(self, wf, only, matrix_filter):
        jobs = wf.get("jobs") or {}
        if not jobs:
            raise Unsupported("no jobs")

        def needs_of(j):
            n = jobs[j].get("needs") or []
            return [n] if isinstance(n, str) else list(n)

        want = set(only or jobs)
        todo = list(want)
        while todo:  # and what they need
            j = todo.pop()
            if j not in jobs:
                raise Unsupported("no job '%s'" % j)
            for n in needs_of(j):
                if n not in want:
                    want.add(n)
                    todo.append(n)
        order, done = [], set()
        while len(order) < len(want):
            ready = [j for j in jobs if j in want and j not in done and all(n in done for n in needs_of(j))]
            if not ready:
                raise Unsupported("the jobs' needs form a cycle")
            order += ready
            done.update(ready)
        results = {}
        for j in order:
            needs = {n: {"result": results[n]["result"], "outputs": results[n]["outputs"]} for n in needs_of(j)}
            jdef = jobs[j]
            legs = expand_matrix(((jdef.get("strategy") or {}).get("matrix")), matrix_filter)
            if any(results[n]["result"] != "success" for n in needs_of(j)) and "always()" not in to_str(jdef.get("if")):
                results[j] = {"result": "skipped", "outputs": {}, "steps": []}
                print("##[job] %s: skipped (a needed job did not succeed)" % j, flush=True)
                continue
            legs_out = [self.run_job(j, jdef, wf, leg, needs) for leg in legs]
            if len(legs_out) == 1 and not legs[0]:
                results[j] = legs_out[0]
            else:
                ok = all(r["result"] == "success" for r in legs_out)
                results[j] = {"result": "success" if ok else "failure", "outputs": {}, "legs": legs_out}
        return results


def expand_matrix(m, keep):
    if not m:
        return [{}]
    if isinstance(m, str):
        raise Unsupported("a matrix from an expression is not supported")
    keys = [k for k in m if k not in ("include", "exclude")]
    legs = [dict(zip(keys, vals)) for vals in itertools.product(*(m[k] for k in keys))] if keys else []
    for ex in m.get("exclude") or []:
        legs = [l for l in legs if not all(l.get(k) == v for k, v in ex.items())]
    base = list(legs)  # an include extends the combinations it matches, else is one more
    for inc in m.get("include") or []:
        hit = False
        for l in base:
            if all(l.get(k) == v for k, v in inc.items() if k in keys):
                l.update({k: v for k, v in inc.items() if k not in keys})
                hit = True
        if not hit:
            legs.append(dict(inc))
    for k, v in keep:
        legs = [l for l in legs if to_str(l.get(k)) == v]
    if not legs:
        raise Unsupported("no matrix leg is left (--matrix)")
    return legs


def kv(s, opt):
    if "=" not in s:
        raise SystemExit("ghactions.py: %s wants NAME=VALUE, not '%s'" % (opt, s))
    return tuple(s.split("=", 1))


def main():
    p = argparse.ArgumentParser(prog="ghactions.py", description="Runs GitHub Actions steps locally.")
    p.add_argument("mode", choices=["action", "workflow"])
    p.add_argument("path", help="the action's folder, or the workflow file")
    p.add_argument("--work", required=True, help="the runner's folder (workspaces, RUNNER_TEMP, _actions)")
    p.add_argument("--workspace", help="run in this workspace instead of a fresh one under --work")
    p.add_argument("--tool-cache", help="RUNNER_TOOL_CACHE (default WORK/_tool)")
    p.add_argument("--checkout", help="what actions/checkout copies into the workspace")
    p.add_argument("--action", action="append", default=[], metavar="OWNER/REPO@REF=DIR")
    p.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--github", action="append", default=[], metavar="KEY=VALUE",
                   help="a github context value (sha, actor, repository, server_url, token...)")
    p.add_argument("--job", action="append", default=[])
    p.add_argument("--matrix", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--result", help="write the results as JSON here")
    args = p.parse_args()
    try:
        r = Runner(args)
        if args.mode == "action":
            wf = {"name": "action", "jobs": {"action": {"steps": [
                {"id": "action", "uses": os.path.abspath(args.path),
                 "with": dict(kv(i, "--input") for i in args.input)}]}}}
        else:
            wf = yaml.safe_load(open(args.path, encoding="utf-8"))
        results = r.run_workflow(wf, args.job, [kv(m, "--matrix") for m in args.matrix])
    except Unsupported as e:
        print("ghactions.py: %s" % e, file=sys.stderr)
        return 2
    if args.result:
        with open(args.result, "w", encoding="utf-8") as f:
            json.dump({"jobs": results}, f, indent=2)
    return 0 if all(j["result"] in ("success", "skipped") for j in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
