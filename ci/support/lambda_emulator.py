#!/usr/bin/env python3
"""A test-only Lambda that behaves like AWS where moto is lenient: moto plus a strict proxy.

  lambda_emulator.py [--update-seconds S] [--rate N] [--burst B] [--get-function-rate N]
                     [--code-storage-limit BYTES]

Starts moto's server in this process on a free 127.0.0.1 port and, in front of it, a proxy on
another free 127.0.0.1 port; prints "ready PROXY_PORT MOTO_PORT" on stdout and exits when its
parent process goes away (a crashed test run never leaves it behind). Point the tool at the proxy;
use moto's port only for fixtures and for reading the ground truth. Everything the proxy does not
model is forwarded to moto unchanged (Host and the SigV4 headers included, so moto can check
signatures when INITIAL_NO_AUTH_ACTION_COUNT is set). Answers the emulator makes itself (409,
412, 429, canned invokes, paging, policies) are not signature-checked.

What it models (AWS Lambda API reference, "Lambda function states"; where the reference is silent,
behaviour measured on AWS and reported publicly, named below):

  Update window   After UpdateFunctionCode / UpdateFunctionConfiguration, $LATEST reports
                  LastUpdateStatus InProgress for --update-seconds (default 2; 0 = none), then
                  Successful; State stays Active. During the window UpdateFunctionCode,
                  UpdateFunctionConfiguration and PublishVersion answer 409
                  ResourceConflictException "The operation cannot be performed at this time. An
                  update is in progress for resource: ARN". $LATEST's RevisionId changes when the
                  update is accepted and again when it completes (aws/aws-sdk#377), so a RevisionId
                  read during the window is stale after it.
  RevisionId      Every function configuration ($LATEST, each version) and alias carries one.
                  Stale RevisionId on UpdateFunctionCode, UpdateFunctionConfiguration,
                  PublishVersion, UpdateAlias -> 412 PreconditionFailedException; on AddPermission
                  / RemovePermission it is checked against the policy's RevisionId.
                  The 409 is decided before the 412.
  CodeSha256      PublishVersion with a CodeSha256 other than $LATEST's -> 400
                  InvalidParameterValueException "CodeSHA256 (X) is different from current
                  CodeSHA256 in $LATEST (Y). Please try again with the CodeSHA256 in $LATEST."
  Versions        Numbers are never reused, even after DeleteFunction with a Qualifier. A publish
                  with no UpdateFunctionCode/Configuration since the newest version returns that
                  version (the reference: "Lambda doesn't publish a version if the function's
                  configuration and code haven't changed since the last version"; an update call
                  counts as a change even with the same bytes, as moto verified on AWS in
                  getmoto/moto#8379). If that newest version was deleted, a new one is published.
  Delete          DeleteFunction Qualifier=$LATEST -> 400; a version an alias references
                  (FunctionVersion or RoutingConfig) -> 409 "Unable to delete version because the
                  following aliases reference it: [a]"; a version that does not exist -> 204
                  (measured on AWS, floci-io/floci#2824). Deleting a version drops its policy and
                  provisioned-concurrency config.
  Paging          ListVersionsByFunction ($LATEST first, then ascending; at most 50 a page) and
                  ListAliases (by name; MaxItems default 50) page with MaxItems / Marker /
                  NextMarker; markers name the last item returned, so every item present for the
                  whole listing is returned exactly once even while others are added or deleted.
  Policies        AddPermission / GetPolicy / RemovePermission keep one policy per qualifier
                  (unqualified, $LATEST, each version, each alias), like AWS; moto keeps one.
  Invoke          Answered by the emulator, never by containers: the first queued canned answer
                  that matches (function, qualifier) or {"statusCode": 200}; X-Amz-Executed-Version
                  is the version the qualifier resolves to (an alias: its primary version).
  Account         GetAccountSettings: AccountUsage.TotalCodeSize is the sum of CodeSize over every
                  function's $LATEST and each published version; AccountLimit.TotalCodeSize is
                  --code-storage-limit (default 75 GB). A publish or a ZipFile upload that would
                  exceed it -> 400 CodeStorageExceededException.
  Provisioned     Put/Get/Delete/ListProvisionedConcurrencyConfig(s), READY at once; also settable
  concurrency     through the control endpoint.
  Rate limit      Off unless --rate is given: a token bucket per account and region over every
                  Lambda call (modelled or not) except Invoke and GetFunction (which has its own,
                  --get-function-rate, default 100/s, as Lambda's quotas). Over it: 429
                  TooManyRequestsException, Retry-After in whole seconds (at least 1).

Control (never forwarded, never rate limited; JSON in and out):
  GET    /__emulator                     {"motoEndpoint": URL, "config": {...}}
  GET    /__emulator/config              the configuration
  POST   /__emulator/config              change any of {"updateSeconds": S, "codeStorageLimit": B,
                                         "rateLimit": null | {"perSecond": N, "burst": B,
                                         "getFunctionPerSecond": N}}; answers the configuration
  POST   /__emulator/settle              end every update window now
  GET    /__emulator/stats               {"requests": n, "operations": {OP: {"requests": n,
                                         "statuses": {"200": n, ...}}}, "conflicts" (409s),
                                         "preconditionFailures" (412s), "throttles" (429s),
                                         "uploads" (UpdateFunctionCode requests, any answer),
                                         "uploadsApplied", "publishes" (versions created),
                                         "invocations": [{"function", "qualifier",
                                         "executedVersion", "invocationType", "payload"}]}
                                         OP: the Lambda operation's name; "OtherLambda" for Lambda
                                         calls the emulator does not model, "Other" for every
                                         other service
  DELETE /__emulator/stats               reset the counters
  GET    /__emulator/invoke-answers      the queue
  POST   /__emulator/invoke-answers      append {"answers": [{"payload": JSON, "functionError":
                                         "Unhandled"|"Handled", "function": NAME, "qualifier": Q,
                                         "log": TEXT}]}; every key optional; a string payload is
                                         answered as is, any other JSON value JSON-encoded
  DELETE /__emulator/invoke-answers      clear the queue
  GET    /__emulator/provisioned-concurrency           every config
  POST   /__emulator/provisioned-concurrency           {"function", "qualifier", "executions",
                                                        "region"?} (0 executions deletes)
Region defaults to us-east-1 and the account to moto's default wherever the control API needs one.
"""
import base64
import binascii
import datetime
import http.client
import http.server
import json
import logging
import math
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid
import weakref

from loopback import watch_parent

LOOPBACK = "127.0.0.1"
DEFAULT_REGION = "us-east-1"
DEFAULT_UPDATE_SECONDS = 2.0
DEFAULT_CODE_STORAGE_LIMIT = 80530636800  # 75 GB, Lambda's default "function and layer storage"
DEFAULT_GET_FUNCTION_RATE = 100.0
MAX_BODY = 100 * 1024 * 1024  # a direct upload is at most ~70 MB of request
MAX_CONTROL_BODY = 1024 * 1024
MAX_INVOCATIONS_KEPT = 1000
MAX_QUEUED_ANSWERS = 10000
VERSIONS_PAGE_CAP = 50  # "ListVersionsByFunction returns a maximum of 50 items in each response"
DEFAULT_PAGE = 50
MAX_ITEMS = 10000
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}
NAME_RE = r"[A-Za-z0-9_.-]+"
QUALIFIER_RE = r"[A-Za-z0-9$_-]+"

PREFIX = r"/2015-03-31/functions"
FN = r"/(?P<fn>[^/]+)"
ROUTES = [
    ("POST", PREFIX + r"/?", "CreateFunction"),
    ("GET", PREFIX + r"/?", "ListFunctions"),
    ("GET", PREFIX + FN + r"/?", "GetFunction"),
    ("DELETE", PREFIX + FN + r"/?", "DeleteFunction"),
    ("GET", PREFIX + FN + r"/configuration/?", "GetFunctionConfiguration"),
    ("PUT", PREFIX + FN + r"/configuration/?", "UpdateFunctionConfiguration"),
    ("PUT", PREFIX + FN + r"/code/?", "UpdateFunctionCode"),
    ("POST", PREFIX + FN + r"/versions/?", "PublishVersion"),
    ("GET", PREFIX + FN + r"/versions/?", "ListVersionsByFunction"),
    ("POST", PREFIX + FN + r"/aliases/?", "CreateAlias"),
    ("GET", PREFIX + FN + r"/aliases/?", "ListAliases"),
    ("GET", PREFIX + FN + r"/aliases/(?P<alias>[^/]+)/?", "GetAlias"),
    ("PUT", PREFIX + FN + r"/aliases/(?P<alias>[^/]+)/?", "UpdateAlias"),
    ("DELETE", PREFIX + FN + r"/aliases/(?P<alias>[^/]+)/?", "DeleteAlias"),
    ("POST", PREFIX + FN + r"/policy/?", "AddPermission"),
    ("GET", PREFIX + FN + r"/policy/?", "GetPolicy"),
    ("DELETE", PREFIX + FN + r"/policy/(?P<sid>[^/]+)/?", "RemovePermission"),
    ("POST", PREFIX + FN + r"/invocations/?", "Invoke"),
    ("GET", r"/2016-08-19/account-settings/?", "GetAccountSettings"),
    ("PUT", r"/2019-09-30/functions" + FN + r"/provisioned-concurrency/?", "PutProvisionedConcurrencyConfig"),
    ("GET", r"/2019-09-30/functions" + FN + r"/provisioned-concurrency/?", "GetProvisionedConcurrencyConfig"),
    ("DELETE", r"/2019-09-30/functions" + FN + r"/provisioned-concurrency/?", "DeleteProvisionedConcurrencyConfig"),
]
ROUTES = [(method, re.compile(pattern), name) for method, pattern, name in ROUTES]
CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")


class EmulatorError(Exception):
    """An AWS-shaped error answer: HTTP status, error code, message."""

    def __init__(self, status, code, message, headers=()):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, list(headers)


class BadControl(Exception):
    """A control request the emulator cannot act on (answered 400)."""


def new_revision():
    return str(uuid.uuid4())


def iso_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


# MARK: - moto, in this process


class Moto:
    """moto's server in this process, and direct access to its Lambda store.

    In-process so the emulator can read the truth it needs (every version's CodeSize, $LATEST's
    CodeSha256, which aliases reference a version) without sending requests of its own that moto
    would count or signature-check, and so it can make version numbers monotonic at the source.
    """

    def __init__(self):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.awslambda import models, utils
        from moto.core.models import default_user_config
        from moto.server import ThreadedMotoServer

        self.models, self.utils = models, utils
        # Never start containers: Invoke is answered by the emulator; a direct invoke at moto gets
        # moto's lambda-simple answer instead of hanging on a missing Docker.
        default_user_config.setdefault("lambda", {})["use_docker"] = False
        self._patch_version_numbering()
        self.server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
        self.server.start()
        self.port = self.server.get_host_and_port()[1]

    def _patch_version_numbering(self):
        """moto numbers a new version len(versions)+1, so a number comes back after a delete;
        AWS never reuses one. Replace its publish with one that counts from the highest number
        the function has ever had (kept on moto's store, reset when a function is created anew)."""
        storage = getattr(self.models, "LambdaStorage", None)
        needed = ("publish_version", "put_function", "get_function_by_name_or_arn_forbid_qualifier", "_functions")
        if storage is None or not all(hasattr(storage, name) for name in needed[:3]):
            raise SystemExit("lambda_emulator: this moto version has no LambdaStorage.publish_version/put_function to extend")
        import copy

        original_put = storage.put_function

        def marks(self):
            return self.__dict__.setdefault("_emulator_high_water", {})

        def put_function(self, fn):
            if fn.function_name not in self._functions:
                marks(self).pop(fn.function_name, None)
            return original_put(self, fn)

        def publish_version(self, name_or_arn, description=""):
            function = self.get_function_by_name_or_arn_forbid_qualifier(name_or_arn)
            name = function.function_name
            entry = self._functions.get(name)
            if not entry or not entry.get("latest"):
                return None
            versions = entry["versions"]
            newest = max([marks(self).get(name, 0)] + [int(v.version) for v in versions])
            if versions and not function.code_or_config_updated and int(versions[-1].version) == newest:
                return versions[-1]  # nothing changed since the newest version, which still exists
            function.code_or_config_updated = False
            number = newest + 1
            marks(self)[name] = number
            fn = copy.copy(entry["latest"])
            fn.set_version(number)
            if description:
                fn.description = description
            versions.append(fn)
            self._arns[fn.function_arn] = fn
            return fn

        storage.put_function = put_function
        storage.publish_version = publish_version

    def storage(self, account, region):
        return self.utils.get_backend(account, region)._lambdas

    def entry(self, account, region, name):
        """moto's record of a function: {"latest": LambdaFunction, "versions": [...]}, or None."""
        entry = self.storage(account, region)._functions.get(name)
        return entry if entry and entry.get("latest") is not None else None

    def aliases(self, account, region, entry):
        return dict(self.storage(account, region)._aliases.get(entry["latest"].function_arn, {}))

    def functions(self, account, region):
        return [entry for entry in list(self.storage(account, region)._functions.values()) if entry.get("latest") is not None]

    @staticmethod
    def account_for(headers):
        """The account moto will act in for this request (moto's own order of precedence)."""
        if "MOTO_ACCOUNT_ID" in os.environ:
            return os.environ["MOTO_ACCOUNT_ID"]
        if headers.get("x-moto-account-id"):
            return headers["x-moto-account-id"]
        from moto.iam.models import get_account_id_from

        match = CREDENTIAL_RE.search(headers.get("Authorization", ""))
        return get_account_id_from(match.group(1) if match else "AKIAEXAMPLE")

    @staticmethod
    def default_account():
        from moto.core import DEFAULT_ACCOUNT_ID

        return os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)


# MARK: - State the emulator adds to moto's


class FunctionState:
    """What AWS tracks for a function that moto does not: revisions, the update window, policies
    per qualifier, provisioned concurrency. Tied to moto's $LATEST object, so a function deleted
    and created again (or a moto reset) starts afresh."""

    def __init__(self, latest):
        self.anchor = weakref.ref(latest)
        self.writer = threading.Lock()  # one write at a time per function: check + forward + record
        self.latest_revision = new_revision()
        self.update_until = 0.0
        self.completion_pending = False
        self.version_revisions = {}
        self.alias_revisions = {}
        self.policies = {}  # qualifier ("" = unqualified) -> {"revision": str, "statements": [...]}
        self.provisioned = {}  # qualifier -> config dict

    def settle(self, now):
        """The update's end: Successful, and a new RevisionId (as AWS: the id changes again)."""
        if self.completion_pending and now >= self.update_until:
            self.completion_pending = False
            self.latest_revision = new_revision()

    def updating(self, now):
        self.settle(now)
        return now < self.update_until


class TokenBucket:
    def __init__(self, rate, burst):
        self.rate, self.burst = float(rate), float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self, now):
        """0 when a token was taken, else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Emulator:
    def __init__(self, moto, update_seconds, code_storage_limit, rate_limit):
        self.moto = moto
        self.lock = threading.Lock()
        self.update_seconds = update_seconds
        self.code_storage_limit = code_storage_limit
        self.rate_limit = rate_limit  # None or {"perSecond", "burst", "getFunctionPerSecond"}
        self.buckets = {}
        self.states = {}
        self.answers = []
        self.reset_stats()

    # Configuration and counters (the control API)

    def config(self):
        with self.lock:
            return {"updateSeconds": self.update_seconds, "codeStorageLimit": self.code_storage_limit, "rateLimit": self.rate_limit}

    def configure(self, document):
        if not isinstance(document, dict):
            raise BadControl("the configuration must be a JSON object")
        unknown = set(document) - {"updateSeconds", "codeStorageLimit", "rateLimit"}
        if unknown:
            raise BadControl("unknown configuration keys: %s" % ", ".join(sorted(unknown)))
        changes = {}
        if "updateSeconds" in document:
            changes["update_seconds"] = check_seconds(document["updateSeconds"], "updateSeconds")
        if "codeStorageLimit" in document:
            changes["code_storage_limit"] = check_int(document["codeStorageLimit"], "codeStorageLimit", 0, 2**62)
        if "rateLimit" in document:
            changes["rate_limit"] = check_rate(document["rateLimit"])
        with self.lock:
            for key, value in changes.items():
                setattr(self, key, value)
            if "rate_limit" in changes:
                self.buckets = {}
        return self.config()

    def reset_stats(self):
        with self.lock:
            self.stats = {
                "requests": 0, "operations": {}, "conflicts": 0, "preconditionFailures": 0, "throttles": 0,
                "uploads": 0, "uploadsApplied": 0, "publishes": 0, "invocations": [],
            }

    def snapshot_stats(self):
        with self.lock:
            return json.loads(json.dumps(self.stats))

    def count(self, operation, status):
        with self.lock:
            stats = self.stats
            stats["requests"] += 1
            entry = stats["operations"].setdefault(operation, {"requests": 0, "statuses": {}})
            entry["requests"] += 1
            entry["statuses"][str(status)] = entry["statuses"].get(str(status), 0) + 1
            if status == 409:
                stats["conflicts"] += 1
            elif status == 412:
                stats["preconditionFailures"] += 1
            elif status == 429:
                stats["throttles"] += 1
            if operation == "UpdateFunctionCode":
                stats["uploads"] += 1
                if 200 <= status < 300:
                    stats["uploadsApplied"] += 1

    def settle_all(self):
        with self.lock:
            now = time.monotonic()
            for state in self.states.values():
                state.update_until = min(state.update_until, now)
                state.settle(now)

    # Rate limit

    def throttle(self, account, region, operation):
        """Seconds to wait when this call is over the rate, else None."""
        with self.lock:
            limit = self.rate_limit
            if limit is None or operation == "Invoke":
                return None
            if operation == "GetFunction":
                key, rate, burst = (account, region, "GetFunction"), limit["getFunctionPerSecond"], limit["getFunctionPerSecond"]
            else:
                key, rate, burst = (account, region, "control"), limit["perSecond"], limit["burst"]
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = TokenBucket(rate, max(1.0, burst))
            wait = bucket.take(time.monotonic())
            return wait if wait > 0 else None

    # Per-function state

    def state(self, account, region, name, entry=None):
        """The emulator's state for a function moto has, or None (and forgotten) when it has not."""
        entry = entry if entry is not None else self.moto.entry(account, region, name)
        key = (account, region, name)
        with self.lock:
            if entry is None:
                self.states.pop(key, None)
                return None
            state = self.states.get(key)
            if state is None or state.anchor() is not entry["latest"]:
                state = self.states[key] = FunctionState(entry["latest"])
            return state

    def forget(self, account, region, name):
        with self.lock:
            self.states.pop((account, region, name), None)

    # Decorating moto's answers

    def decorate_function(self, account, region, config, update_response=False):
        """Adds RevisionId, State and LastUpdateStatus to one FunctionConfiguration."""
        if not isinstance(config, dict) or not isinstance(config.get("FunctionName"), str):
            return config
        state = self.state(account, region, config["FunctionName"])
        if state is None:
            return config
        version = str(config.get("Version", "$LATEST"))
        with self.lock:
            now = time.monotonic()
            busy = state.updating(now)
            if version == "$LATEST":
                config["RevisionId"] = state.latest_revision
            else:
                config["RevisionId"] = state.version_revisions.setdefault(version, new_revision())
            config["State"] = "Active"
            in_progress = busy and (version == "$LATEST" or update_response)
            config["LastUpdateStatus"] = "InProgress" if in_progress else "Successful"
            for key in ("LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
                config.pop(key, None)
        return config

    def decorate_alias(self, account, region, function, alias):
        if not isinstance(alias, dict) or not isinstance(alias.get("Name"), str):
            return alias
        state = self.state(account, region, function)
        if state is None:
            return alias
        with self.lock:
            alias["RevisionId"] = state.alias_revisions.setdefault(alias["Name"], alias.get("RevisionId") or new_revision())
        return alias

    def alias_revision(self, state, name, moto_alias):
        with self.lock:
            return state.alias_revisions.setdefault(name, getattr(moto_alias, "revision_id", None) or new_revision())

    def code_usage(self, account, region):
        total, count = 0, 0
        for entry in self.moto.functions(account, region):
            count += 1
            total += int(entry["latest"].code_size or 0)
            total += sum(int(version.code_size or 0) for version in list(entry["versions"]))
        return total, count

    # Invoke answers

    def queue_answers(self, document):
        answers = document.get("answers") if isinstance(document, dict) else None
        if not isinstance(answers, list):
            raise BadControl('expected {"answers": [...]}')
        checked = []
        for answer in answers:
            if not isinstance(answer, dict):
                raise BadControl("each answer must be an object")
            unknown = set(answer) - {"payload", "functionError", "function", "qualifier", "log"}
            if unknown:
                raise BadControl("unknown answer keys: %s" % ", ".join(sorted(unknown)))
            if answer.get("functionError") not in (None, "Unhandled", "Handled"):
                raise BadControl("functionError must be Unhandled or Handled")
            for key in ("function", "qualifier", "log"):
                if key in answer and answer[key] is not None and not isinstance(answer[key], str):
                    raise BadControl("%s must be a string" % key)
            checked.append(dict(answer))
        with self.lock:
            if len(self.answers) + len(checked) > MAX_QUEUED_ANSWERS:
                raise BadControl("at most %d queued answers" % MAX_QUEUED_ANSWERS)
            self.answers.extend(checked)
            return list(self.answers)

    def next_answer(self, function, qualifier, executed):
        with self.lock:
            for index, answer in enumerate(self.answers):
                if answer.get("function") not in (None, function):
                    continue
                if answer.get("qualifier") not in (None, qualifier, executed):
                    continue
                return self.answers.pop(index)
        return {"payload": {"statusCode": 200}}

    def record_invocation(self, entry):
        with self.lock:
            invocations = self.stats["invocations"]
            invocations.append(entry)
            del invocations[:-MAX_INVOCATIONS_KEPT]


def check_seconds(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 <= value <= 3600) or math.isnan(value):
        raise BadControl("%s must be a number of seconds from 0 to 3600" % name)
    return float(value)


def check_int(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not (low <= value <= high):
        raise BadControl("%s must be an integer from %d to %d" % (name, low, high))
    return value


def check_rate(value):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"perSecond", "burst", "getFunctionPerSecond"} or "perSecond" not in value:
        raise BadControl('rateLimit must be null or {"perSecond": N, "burst": B, "getFunctionPerSecond": N}')
    per_second = check_positive(value["perSecond"], "rateLimit.perSecond")
    burst = check_positive(value.get("burst", per_second), "rateLimit.burst")
    get_function = check_positive(value.get("getFunctionPerSecond", DEFAULT_GET_FUNCTION_RATE), "rateLimit.getFunctionPerSecond")
    return {"perSecond": per_second, "burst": burst, "getFunctionPerSecond": get_function}


def check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value <= 100000):
        raise BadControl("%s must be a number above 0" % name)
    return float(value)


def split_function(reference):
    """(name, qualifier or None) from a function name, name:qualifier, partial or full ARN."""
    match = re.fullmatch(
        r"(?:arn:[A-Za-z-]+:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?(%s)(?::(%s))?" % (NAME_RE, QUALIFIER_RE), reference)
    return (match.group(1), match.group(2)) if match else (None, None)


def encode_marker(key):
    return base64.urlsafe_b64encode(json.dumps({"after": key}).encode()).decode().rstrip("=")


def decode_marker(marker):
    try:
        document = json.loads(base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)))
        return document["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise EmulatorError(400, "InvalidParameterValueException", "Invalid pagination marker: %s" % marker[:64])


def page(items, key, query, cap):
    """One page of `items` (sorted by `key`) after the query's Marker, and the next marker."""
    raw_max = query.get("MaxItems", [None])[0]
    size = DEFAULT_PAGE
    if raw_max is not None:
        if not raw_max.isdigit() or not (1 <= int(raw_max) <= MAX_ITEMS):
            raise EmulatorError(400, "InvalidParameterValueException", "MaxItems must be an integer from 1 to %d" % MAX_ITEMS)
        size = int(raw_max)
    if cap:
        size = min(size, cap)
    marker = query.get("Marker", [None])[0]
    if marker:
        after = decode_marker(marker)
        items = [item for item in items if key(item) > after]
    chunk = items[:size]
    next_marker = encode_marker(key(chunk[-1])) if len(items) > size else None
    return chunk, next_marker


def version_key(config):
    version = str(config.get("Version"))
    return -1 if version == "$LATEST" else int(version) if version.isdigit() else -1


# MARK: - HTTP


def read_body(handler, limit):
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks, total = [], 0
        while True:
            line = handler.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise EmulatorError(400, "InvalidRequestContentException", "malformed chunked body")
            if size == 0:
                while handler.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > limit:
                raise EmulatorError(413, "RequestTooLargeException", "Request must be smaller than %d bytes" % limit)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline(1024)
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        raise EmulatorError(400, "InvalidRequestContentException", "malformed Content-Length")
    if length > limit:
        raise EmulatorError(413, "RequestTooLargeException", "Request must be smaller than %d bytes" % limit)
    return handler.rfile.read(length) if length > 0 else b""


def make_handler(emulator, moto_port):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        # Answers

        def answer(self, status, headers, body):
            self.status_sent = status
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.close_connection = True

        def answer_json(self, status, document, headers=()):
            body = json.dumps(document).encode()
            self.answer(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4()))] + list(headers), body)

        def answer_error(self, error):
            headers = [("x-amzn-ErrorType", error.code)] + error.headers
            document = {"Type": "User", "message": error.message}
            if error.code == "TooManyRequestsException":
                document["Reason"] = "CallerRateLimitExceeded"
            self.answer_json(error.status, document, headers)

        def forward(self, body):
            connection = http.client.HTTPConnection(LOOPBACK, moto_port, timeout=120)
            try:
                connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        connection.putheader(name, value)
                if body or self.command in ("POST", "PUT", "PATCH"):
                    connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body)
                response = connection.getresponse()
                data = response.read()
                # Content-Length is set again on the way out, Server and Date by this server.
                dropped = HOP_BY_HOP | {"content-length", "server", "date"}
                headers = [(k, v) for k, v in response.getheaders() if k.lower() not in dropped]
                return response.status, headers, data
            finally:
                connection.close()

        def relay(self, status, headers, data, document=None):
            """Answers with moto's answer, its JSON body replaced by `document` when given."""
            if document is not None:
                data = json.dumps(document).encode()
                headers = [(k, v) for k, v in headers if k.lower() not in ("content-type", "x-amz-crc32")]
                headers.append(("Content-Type", "application/json"))
            self.answer(status, headers, data)

        # Dispatch

        def handle_any(self):
            self.status_sent = None
            operation = "Other"
            try:
                path, _, query_text = self.path.partition("?")
                if path == "/__emulator" or path.startswith("/__emulator/"):
                    return self.control(path, read_body(self, MAX_CONTROL_BODY))
                body = read_body(self, MAX_BODY)
                credential = CREDENTIAL_RE.search(self.headers.get("Authorization", ""))
                service = credential.group(3) if credential else None
                is_lambda = service == "lambda" or (service is None and re.match(r"/20\d\d-\d\d-\d\d/", path))
                if not is_lambda:
                    return self.relay(*self.forward(body))  # counted as "Other", never rate limited
                route, operation = self.route(path)
                query = urllib.parse.parse_qs(query_text, keep_blank_values=True)
                if operation == "GetProvisionedConcurrencyConfig" and query.get("List", [""])[0] == "ALL":
                    operation = "ListProvisionedConcurrencyConfigs"
                region = credential.group(2) if credential else DEFAULT_REGION
                account = Moto.account_for(self.headers)
                wait = emulator.throttle(account, region, operation)
                if wait is not None:
                    raise EmulatorError(429, "TooManyRequestsException", "Rate exceeded", [("Retry-After", str(max(1, math.ceil(wait))))])
                request = Request(self, operation, route, query, body, account, region)
                handler = getattr(self, "op_" + operation, None)
                if handler is None:
                    return self.relay(*self.forward(body))
                return handler(request)
            except EmulatorError as error:
                self.answer_error(error)
            except BrokenPipeError:
                self.close_connection = True
            except Exception as error:  # a bug here must not look like an AWS answer, nor hang the client
                print("lambda_emulator: %s on %s %s: %r" % (type(error).__name__, self.command, self.path.split("?")[0], error), file=sys.stderr)
                if self.status_sent is None:
                    try:
                        self.answer_error(EmulatorError(500, "ServiceException", "lambda_emulator internal error: %s" % type(error).__name__))
                    except OSError:
                        pass
            finally:
                if self.status_sent is not None and not self.path.startswith("/__emulator"):
                    emulator.count(operation, self.status_sent)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any

        def route(self, path):
            for method, pattern, name in ROUTES:
                match = pattern.fullmatch(path)
                if match and method == self.command:
                    return match.groupdict(), name
            return {}, "OtherLambda"

        # Control API

        def control(self, path, body):
            try:
                document = json.loads(body) if body.strip() else {}
            except ValueError:
                return self.answer_json(400, {"error": "the body is not JSON"})
            try:
                return self.control_action(path.rstrip("/"), document)
            except BadControl as error:
                return self.answer_json(400, {"error": str(error)})

        def control_action(self, path, document):
            method = self.command
            if path == "/__emulator" and method == "GET":
                return self.answer_json(200, {"motoEndpoint": "http://%s:%d" % (LOOPBACK, moto_port), "config": emulator.config()})
            if path == "/__emulator/config":
                if method == "POST":
                    return self.answer_json(200, emulator.configure(document))
                if method == "GET":
                    return self.answer_json(200, emulator.config())
            if path == "/__emulator/settle" and method == "POST":
                emulator.settle_all()
                return self.answer_json(200, {"settled": True})
            if path == "/__emulator/stats":
                if method == "GET":
                    return self.answer_json(200, emulator.snapshot_stats())
                if method == "DELETE":
                    emulator.reset_stats()
                    return self.answer_json(200, emulator.snapshot_stats())
            if path == "/__emulator/invoke-answers":
                if method == "POST":
                    return self.answer_json(200, emulator.queue_answers(document))
                if method == "GET":
                    with emulator.lock:
                        return self.answer_json(200, list(emulator.answers))
                if method == "DELETE":
                    with emulator.lock:
                        emulator.answers.clear()
                    return self.answer_json(200, [])
            if path == "/__emulator/provisioned-concurrency":
                if method == "POST":
                    return self.control_provisioned(document)
                if method == "GET":
                    return self.answer_json(200, self.all_provisioned())
            return self.answer_json(404, {"error": "no control action %s %s" % (method, path)})

        def control_provisioned(self, document):
            if not isinstance(document, dict):
                raise BadControl("expected an object")
            function, qualifier = document.get("function"), document.get("qualifier")
            if not isinstance(function, str) or not re.fullmatch(NAME_RE, function):
                raise BadControl("function must be a function name")
            if not isinstance(qualifier, str) or not re.fullmatch(QUALIFIER_RE, qualifier) or qualifier == "$LATEST":
                raise BadControl("qualifier must be a version number or an alias name")
            executions = check_int(document.get("executions"), "executions", 0, 100000)
            region = document.get("region", DEFAULT_REGION)
            if not isinstance(region, str) or not re.fullmatch(r"[a-z0-9-]{1,32}", region):
                raise BadControl("region must be a region name")
            account = Moto.default_account()
            try:
                target = Target.resolve(emulator, account, region, function, qualifier)
            except EmulatorError as error:
                raise BadControl(error.message)
            with emulator.lock:
                if executions == 0:
                    target.state.provisioned.pop(qualifier, None)
                else:
                    target.state.provisioned[qualifier] = provisioned_config(executions)
            return self.answer_json(200, self.all_provisioned())

        def all_provisioned(self):
            result = []
            with emulator.lock:
                for (account, region, name), state in emulator.states.items():
                    for qualifier, config in state.provisioned.items():
                        result.append(dict(config, function=name, qualifier=qualifier, region=region, account=account))
            return result

        # Operations the emulator models

        def op_CreateFunction(self, request):
            document = request.json()
            if isinstance(document.get("FunctionName"), str):
                name, _ = split_function(document["FunctionName"])
                if name:
                    request.check_storage(request.zip_size(document.get("Code")))
            status, headers, data = self.forward(request.body)
            config = parse_json(data)
            if 200 <= status < 300 and isinstance(config, dict):
                return self.relay(status, headers, data, emulator.decorate_function(request.account, request.region, config))
            return self.relay(status, headers, data)

        def op_GetFunction(self, request):
            status, headers, data = self.forward(request.body)
            document = parse_json(data)
            if status == 200 and isinstance(document, dict) and isinstance(document.get("Configuration"), dict):
                emulator.decorate_function(request.account, request.region, document["Configuration"])
                return self.relay(status, headers, data, document)
            return self.relay(status, headers, data)

        def op_GetFunctionConfiguration(self, request):
            status, headers, data = self.forward(request.body)
            document = parse_json(data)
            if status == 200 and isinstance(document, dict):
                return self.relay(status, headers, data, emulator.decorate_function(request.account, request.region, document))
            return self.relay(status, headers, data)

        def op_ListFunctions(self, request):
            status, headers, data = self.forward(request.body)
            document = parse_json(data)
            if status == 200 and isinstance(document, dict) and isinstance(document.get("Functions"), list):
                for config in document["Functions"]:
                    emulator.decorate_function(request.account, request.region, config)
                return self.relay(status, headers, data, document)
            return self.relay(status, headers, data)

        def op_UpdateFunctionCode(self, request):
            return self.update(request, code=True)

        def op_UpdateFunctionConfiguration(self, request):
            return self.update(request, code=False)

        def update(self, request, code):
            target = request.function_target(allow_qualifier=False)
            if target is None:
                return self.relay(*self.forward(request.body))
            document = request.json()
            dry_run = code and document.get("DryRun") is True
            publish = code and document.get("Publish") is True
            with target.state.writer:
                request.check_not_updating(target)
                request.check_revision(document, target.state.latest_revision)
                old_size = int(target.entry["latest"].code_size or 0)
                new_size = request.zip_size(document) if code else None
                added = (new_size - old_size if new_size is not None else 0) + ((new_size or old_size) if publish else 0)
                request.check_storage(added)
                if dry_run:
                    return self.relay(*self.forward(request.body))
                # The window opens before moto applies the update, so a read racing this request
                # never sees the new code reported as settled.
                with emulator.lock:
                    saved = (target.state.latest_revision, target.state.update_until, target.state.completion_pending)
                    now = time.monotonic()
                    target.state.latest_revision = new_revision()
                    target.state.update_until = now + emulator.update_seconds
                    target.state.completion_pending = emulator.update_seconds > 0
                    versions_before = len(target.entry["versions"])
                status, headers, data = self.forward(request.body)
                if not 200 <= status < 300:
                    with emulator.lock:
                        target.state.latest_revision, target.state.update_until, target.state.completion_pending = saved
                    return self.relay(status, headers, data)
                config = parse_json(data)
                if publish and len(target.entry["versions"]) > versions_before:
                    with emulator.lock:
                        emulator.stats["publishes"] += 1
                if isinstance(config, dict):
                    emulator.decorate_function(request.account, request.region, config, update_response=True)
                    return self.relay(status, headers, data, config)
                return self.relay(status, headers, data)

        def op_PublishVersion(self, request):
            target = request.function_target(allow_qualifier=False)
            if target is None:
                return self.relay(*self.forward(request.body))
            document = request.json()
            with target.state.writer:
                request.check_not_updating(target)
                request.check_revision(document, target.state.latest_revision)
                latest = target.entry["latest"]
                expected = document.get("CodeSha256")
                if expected is not None and expected != latest.code_sha_256:
                    raise EmulatorError(
                        400, "InvalidParameterValueException",
                        "CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST."
                        % (str(expected)[:128], latest.code_sha_256))
                versions_before = [v.version for v in target.entry["versions"]]
                changed = latest.code_or_config_updated or not versions_before or int(versions_before[-1]) < high_water(emulator, request, target)
                if changed:
                    request.check_storage(int(latest.code_size or 0))
                status, headers, data = self.forward(request.body)
                config = parse_json(data)
                if 200 <= status < 300 and isinstance(config, dict):
                    if [v.version for v in target.entry["versions"]] != versions_before:
                        with emulator.lock:
                            emulator.stats["publishes"] += 1
                    return self.relay(status, headers, data, emulator.decorate_function(request.account, request.region, config))
                return self.relay(status, headers, data)

        def op_ListVersionsByFunction(self, request):
            status, headers, data = self.forward(request.body)
            document = parse_json(data)
            if status != 200 or not isinstance(document, dict) or not isinstance(document.get("Versions"), list):
                return self.relay(status, headers, data)
            name, _ = split_function(request.function_ref())
            if name is None or emulator.moto.entry(request.account, request.region, name) is None:
                # moto lists nothing for a missing function; AWS answers 404.
                raise EmulatorError(404, "ResourceNotFoundException", "Function not found: %s" % request.function_arn(name or request.function_ref()))
            versions = sorted((v for v in document["Versions"] if isinstance(v, dict)), key=version_key)
            chunk, next_marker = page(versions, version_key, request.query, VERSIONS_PAGE_CAP)
            for config in chunk:
                emulator.decorate_function(request.account, request.region, config)
            result = {"Versions": chunk}
            if next_marker:
                result["NextMarker"] = next_marker
            return self.relay(status, headers, data, result)

        def op_ListAliases(self, request):
            status, headers, data = self.forward(request.body)
            document = parse_json(data)
            if status != 200 or not isinstance(document, dict) or not isinstance(document.get("Aliases"), list):
                return self.relay(status, headers, data)
            name, _ = split_function(request.function_ref())
            aliases = sorted((a for a in document["Aliases"] if isinstance(a, dict) and isinstance(a.get("Name"), str)), key=lambda a: a["Name"])
            wanted = request.query.get("FunctionVersion", [None])[0]
            if wanted:
                aliases = [a for a in aliases if str(a.get("FunctionVersion")) == wanted]
            chunk, next_marker = page(aliases, lambda a: a["Name"], request.query, None)
            for alias in chunk:
                emulator.decorate_alias(request.account, request.region, name, alias)
            result = {"Aliases": chunk}
            if next_marker:
                result["NextMarker"] = next_marker
            return self.relay(status, headers, data, result)

        def op_GetAlias(self, request):
            return self.alias_answer(request, *self.forward(request.body))

        def op_CreateAlias(self, request):
            target = request.function_target(allow_qualifier=False)
            if target is None:
                return self.relay(*self.forward(request.body))
            with target.state.writer:
                status, headers, data = self.forward(request.body)
                document = parse_json(data)
                if 200 <= status < 300 and isinstance(document, dict) and isinstance(document.get("Name"), str):
                    with emulator.lock:
                        target.state.alias_revisions[document["Name"]] = new_revision()
                return self.alias_answer(request, status, headers, data)

        def op_UpdateAlias(self, request):
            target = request.function_target(allow_qualifier=False)
            if target is None:
                return self.relay(*self.forward(request.body))
            alias = urllib.parse.unquote(request.route["alias"])
            document = request.json()
            with target.state.writer:
                moto_alias = emulator.moto.aliases(request.account, request.region, target.entry).get(alias)
                if moto_alias is not None:
                    request.check_revision(document, emulator.alias_revision(target.state, alias, moto_alias))
                status, headers, data = self.forward(request.body)
                if 200 <= status < 300:
                    with emulator.lock:
                        target.state.alias_revisions[alias] = new_revision()
                return self.alias_answer(request, status, headers, data)

        def op_DeleteAlias(self, request):
            target = request.function_target(allow_qualifier=False)
            if target is None:
                return self.relay(*self.forward(request.body))
            alias = urllib.parse.unquote(request.route["alias"])
            with target.state.writer:
                status, headers, data = self.forward(request.body)
                if 200 <= status < 300:
                    with emulator.lock:
                        target.state.alias_revisions.pop(alias, None)
                        target.state.policies.pop(alias, None)
                        target.state.provisioned.pop(alias, None)
                return self.relay(status, headers, data)

        def alias_answer(self, request, status, headers, data):
            document = parse_json(data)
            if 200 <= status < 300 and isinstance(document, dict):
                # moto answers GetAlias and UpdateAlias with 201; AWS with 200 (201 is CreateAlias's).
                status = 201 if request.operation == "CreateAlias" else 200
                name, _ = split_function(request.function_ref())
                return self.relay(status, headers, data, emulator.decorate_alias(request.account, request.region, name, document))
            return self.relay(status, headers, data)

        def op_DeleteFunction(self, request):
            name, in_name = split_function(request.function_ref())
            qualifier = in_name or request.query.get("Qualifier", [None])[0]
            entry = emulator.moto.entry(request.account, request.region, name) if name else None
            if entry is None:
                return self.relay(*self.forward(request.body))
            if qualifier is None:
                status, headers, data = self.forward(request.body)
                if 200 <= status < 300:
                    emulator.forget(request.account, request.region, name)
                return self.relay(status, headers, data)
            if qualifier == "$LATEST":
                raise EmulatorError(400, "InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function.")
            target = Target(emulator, request.account, request.region, name, entry)
            if not qualifier.isdigit():
                raise EmulatorError(
                    400, "InvalidParameterValueException",
                    "lambda_emulator: DeleteFunction takes a version number as Qualifier (delete an alias with DeleteAlias): %s" % qualifier[:64])
            with target.state.writer:
                if not any(str(v.version) == qualifier for v in target.entry["versions"]):
                    return self.answer(204, [("x-amzn-RequestId", str(uuid.uuid4()))], b"")  # as AWS: nothing to delete is not an error
                referencing = sorted(
                    alias_name for alias_name, alias in emulator.moto.aliases(request.account, request.region, target.entry).items()
                    if str(alias.function_version) == qualifier or qualifier in routing_versions(alias.routing_config))
                if referencing:
                    raise EmulatorError(409, "ResourceConflictException",
                                        "Unable to delete version because the following aliases reference it: [%s]" % ", ".join(referencing))
                status, headers, data = self.forward(request.body)
                if 200 <= status < 300:
                    with emulator.lock:
                        target.state.version_revisions.pop(qualifier, None)
                        target.state.policies.pop(qualifier, None)
                        target.state.provisioned.pop(qualifier, None)
                return self.relay(status, headers, data)

        # Resource policies, one per qualifier

        def op_AddPermission(self, request):
            target = request.qualified_target()
            document = request.json()
            sid = document.get("StatementId")
            if not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", sid):
                raise EmulatorError(400, "InvalidParameterValueException", "StatementId must match ([a-zA-Z0-9-_]+)")
            for field in ("Action", "Principal"):
                if not isinstance(document.get(field), str) or not document[field]:
                    raise EmulatorError(400, "InvalidParameterValueException", "%s is required" % field)
            key = target.qualifier or ""
            with target.state.writer, emulator.lock:
                policy = target.state.policies.setdefault(key, {"revision": new_revision(), "statements": []})
                revision = document.get("RevisionId")
                if revision is not None and revision != policy["revision"]:
                    raise precondition_failed()
                if any(statement["Sid"] == sid for statement in policy["statements"]):
                    raise EmulatorError(409, "ResourceConflictException",
                                        "The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement." % sid)
                statement = policy_statement(document, target.arn(target.qualifier), request.account)
                policy["statements"].append(statement)
                policy["revision"] = new_revision()
            return self.answer_json(201, {"Statement": json.dumps(statement)})

        def op_GetPolicy(self, request):
            target = request.qualified_target()
            with emulator.lock:
                policy = target.state.policies.get(target.qualifier or "")
                if not policy or not policy["statements"]:
                    raise EmulatorError(404, "ResourceNotFoundException", "The resource you requested does not exist.")
                document = {"Version": "2012-10-17", "Id": "default", "Statement": policy["statements"]}
                return self.answer_json(200, {"Policy": json.dumps(document), "RevisionId": policy["revision"]})

        def op_RemovePermission(self, request):
            target = request.qualified_target()
            sid = urllib.parse.unquote(request.route["sid"])
            with target.state.writer, emulator.lock:
                policy = target.state.policies.get(target.qualifier or "")
                revision = request.query.get("RevisionId", [None])[0]
                if policy and revision is not None and revision != policy["revision"]:
                    raise precondition_failed()
                statements = policy["statements"] if policy else []
                if not any(statement["Sid"] == sid for statement in statements):
                    raise EmulatorError(404, "ResourceNotFoundException", "Statement %s is not found in resource policy." % sid[:100])
                policy["statements"] = [statement for statement in statements if statement["Sid"] != sid]
                policy["revision"] = new_revision()
            return self.answer(204, [("x-amzn-RequestId", str(uuid.uuid4()))], b"")

        # Invoke, without containers

        def op_Invoke(self, request):
            target = request.qualified_target()
            executed = target.executed_version()
            invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            emulator.record_invocation({
                "function": target.name, "qualifier": target.qualifier or "$LATEST", "executedVersion": executed,
                "invocationType": invocation_type, "payload": request.body[:4096].decode("utf-8", "replace"),
            })
            if invocation_type == "DryRun":
                return self.answer(204, [("x-amzn-RequestId", str(uuid.uuid4()))], b"")
            if invocation_type == "Event":
                return self.answer(202, [("x-amzn-RequestId", str(uuid.uuid4()))], b"")
            answer = emulator.next_answer(target.name, target.qualifier or "$LATEST", executed)
            payload = answer.get("payload", {"statusCode": 200})
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", executed), ("x-amzn-RequestId", str(uuid.uuid4()))]
            if answer.get("functionError"):
                headers.append(("X-Amz-Function-Error", answer["functionError"]))
            if self.headers.get("X-Amz-Log-Type") == "Tail":
                headers.append(("X-Amz-Log-Result", base64.b64encode((answer.get("log") or "")[-4096:].encode()).decode()))
            return self.answer(200, headers, data)

        # Account and provisioned concurrency (moto has neither)

        def op_GetAccountSettings(self, request):
            usage, count = emulator.code_usage(request.account, request.region)
            with emulator.lock:
                limit = emulator.code_storage_limit
            return self.answer_json(200, {
                "AccountLimit": {
                    "TotalCodeSize": limit, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
                    "ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000,
                },
                "AccountUsage": {"TotalCodeSize": usage, "FunctionCount": count},
            })

        def op_PutProvisionedConcurrencyConfig(self, request):
            target = request.qualified_target(required=True)
            executions = request.json().get("ProvisionedConcurrentExecutions")
            if isinstance(executions, bool) or not isinstance(executions, int) or executions < 1:
                raise EmulatorError(400, "InvalidParameterValueException", "ProvisionedConcurrentExecutions must be an integer of at least 1")
            with emulator.lock:
                config = target.state.provisioned[target.qualifier] = provisioned_config(executions)
            return self.answer_json(202, config)

        def op_GetProvisionedConcurrencyConfig(self, request):
            target = request.qualified_target(required=True)
            with emulator.lock:
                config = target.state.provisioned.get(target.qualifier)
            if config is None:
                raise EmulatorError(404, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
            return self.answer_json(200, config)

        def op_DeleteProvisionedConcurrencyConfig(self, request):
            target = request.qualified_target(required=True)
            with emulator.lock:
                target.state.provisioned.pop(target.qualifier, None)
            return self.answer(204, [("x-amzn-RequestId", str(uuid.uuid4()))], b"")

        def op_ListProvisionedConcurrencyConfigs(self, request):
            target = request.function_target(allow_qualifier=False, missing_is_error=True)
            with emulator.lock:
                items = [dict(config, FunctionArn=target.arn(qualifier)) for qualifier, config in target.state.provisioned.items()]
            items.sort(key=lambda item: item["FunctionArn"])
            chunk, next_marker = page(items, lambda item: item["FunctionArn"], request.query, VERSIONS_PAGE_CAP)
            result = {"ProvisionedConcurrencyConfigs": chunk}
            if next_marker:
                result["NextMarker"] = next_marker
            return self.answer_json(200, result)

    return Handler


class Request:
    """One Lambda request as the operations see it."""

    def __init__(self, handler, operation, route, query, body, account, region):
        self.handler, self.operation, self.route, self.query = handler, operation, route, query
        self.body, self.account, self.region = body, account, region
        self._json = None

    def json(self):
        if self._json is None:
            document = parse_json(self.body) if self.body.strip() else {}
            self._json = document if isinstance(document, dict) else {}
        return self._json

    def function_ref(self):
        return urllib.parse.unquote(self.route.get("fn", ""))

    def function_arn(self, name, qualifier=None):
        from moto.utilities.utils import get_partition

        arn = "arn:%s:lambda:%s:%s:function:%s" % (get_partition(self.region), self.region, self.account, name)
        return arn + ":" + qualifier if qualifier else arn

    def function_target(self, allow_qualifier, missing_is_error=False):
        """The function named in the path, or None to let moto answer (it exists nowhere)."""
        name, qualifier = split_function(self.function_ref())
        if name is None or (qualifier and not allow_qualifier):
            return None
        entry = emulator_of(self).moto.entry(self.account, self.region, name)
        if entry is None:
            if missing_is_error:
                raise EmulatorError(404, "ResourceNotFoundException", "Function not found: %s" % self.function_arn(name))
            return None
        return Target(emulator_of(self), self.account, self.region, name, entry)

    def qualified_target(self, required=False):
        """Function and qualifier (from the name or ?Qualifier=) that must both exist."""
        name, in_name = split_function(self.function_ref())
        qualifier = in_name or self.query.get("Qualifier", [None])[0]
        if name is None:
            raise EmulatorError(400, "InvalidParameterValueException", "Invalid function name: %s" % self.function_ref()[:140])
        if required and not qualifier:
            raise EmulatorError(400, "InvalidParameterValueException", "A qualifier (version or alias) is required")
        if required and qualifier == "$LATEST":
            raise EmulatorError(400, "InvalidParameterValueException", "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
        return Target.resolve(emulator_of(self), self.account, self.region, name, qualifier, arn=self.function_arn)

    def check_not_updating(self, target):
        emulator = emulator_of(self)
        with emulator.lock:
            busy = target.state.updating(time.monotonic())
        if busy:
            raise EmulatorError(409, "ResourceConflictException",
                                "The operation cannot be performed at this time. An update is in progress for resource: %s" % target.arn())

    def check_revision(self, document, current):
        revision = document.get("RevisionId")
        if revision is not None and revision != current:
            raise precondition_failed()

    def zip_size(self, document):
        if isinstance(document, dict) and isinstance(document.get("ZipFile"), str):
            text = document["ZipFile"]
            return len(text) * 3 // 4 - text[-2:].count("=")
        return None

    def check_storage(self, added):
        if not added or added <= 0:
            return
        emulator = emulator_of(self)
        usage, _ = emulator.code_usage(self.account, self.region)
        with emulator.lock:
            limit = emulator.code_storage_limit
        if usage + added > limit:
            raise EmulatorError(400, "CodeStorageExceededException", "Code storage limit exceeded.")


def emulator_of(request):
    return request.handler.server.emulator


class Target:
    """A function (and maybe a qualifier) that exists in moto, with the emulator's state for it."""

    def __init__(self, emulator, account, region, name, entry, qualifier=None):
        self.emulator, self.account, self.region, self.name, self.entry, self.qualifier = emulator, account, region, name, entry, qualifier
        self.state = emulator.state(account, region, name, entry)

    @classmethod
    def resolve(cls, emulator, account, region, name, qualifier, arn=None):
        entry = emulator.moto.entry(account, region, name)
        target = cls(emulator, account, region, name, entry, qualifier) if entry else None
        if target is None or (qualifier and target.version_of(qualifier) is None):
            from moto.utilities.utils import get_partition

            full = "arn:%s:lambda:%s:%s:function:%s" % (get_partition(region), region, account, name) + (":" + qualifier if qualifier else "")
            raise EmulatorError(404, "ResourceNotFoundException", "Function not found: %s" % full)
        return target

    def version_of(self, qualifier):
        """The version a qualifier runs ($LATEST, a number, an alias's primary), or None."""
        if qualifier in (None, "$LATEST"):
            return "$LATEST"
        versions = [str(v.version) for v in self.entry["versions"]]
        if qualifier in versions:
            return qualifier
        alias = self.emulator.moto.aliases(self.account, self.region, self.entry).get(qualifier)
        if alias is not None:
            version = str(alias.function_version)
            return version if version == "$LATEST" or version in versions else None
        return None

    def executed_version(self):
        return self.version_of(self.qualifier) or "$LATEST"

    def arn(self, qualifier=None):
        base = self.entry["latest"].function_arn
        return base + ":" + qualifier if qualifier else base


def high_water(emulator, request, target):
    storage = emulator.moto.storage(request.account, request.region)
    return storage.__dict__.get("_emulator_high_water", {}).get(target.name, 0)


def routing_versions(routing_config):
    if isinstance(routing_config, dict):
        weights = routing_config.get("AdditionalVersionWeights") or {}
        return {str(version) for version in weights} if isinstance(weights, dict) else set()
    return set()


def precondition_failed():
    return EmulatorError(412, "PreconditionFailedException",
                         "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")


def provisioned_config(executions):
    return {
        "RequestedProvisionedConcurrentExecutions": executions, "AvailableProvisionedConcurrentExecutions": executions,
        "AllocatedProvisionedConcurrentExecutions": executions, "Status": "READY", "LastModified": iso_now(),
    }


def policy_statement(document, resource, account):
    principal = document["Principal"]
    if principal.endswith(".amazonaws.com"):
        principal_value = {"Service": principal}
    elif re.fullmatch(r"\d{12}", principal):
        principal_value = {"AWS": "arn:aws:iam::%s:root" % principal}
    else:
        principal_value = {"AWS": principal} if principal != "*" else "*"
    statement = {"Sid": document["StatementId"], "Effect": "Allow", "Principal": principal_value, "Action": document["Action"], "Resource": resource}
    condition = {}
    if isinstance(document.get("SourceArn"), str):
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = document["SourceArn"]
    if isinstance(document.get("SourceAccount"), str):
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = document["SourceAccount"]
    if isinstance(document.get("PrincipalOrgID"), str):
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = document["PrincipalOrgID"]
    if condition:
        statement["Condition"] = condition
    return statement


def parse_json(data):
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections when many deploys start at once




def parse_arguments(argv):
    options = {"update_seconds": DEFAULT_UPDATE_SECONDS, "code_storage_limit": DEFAULT_CODE_STORAGE_LIMIT, "rate": None, "burst": None,
               "get_function_rate": DEFAULT_GET_FUNCTION_RATE}
    args = list(argv)
    numbers = {"--update-seconds": "update_seconds", "--rate": "rate", "--burst": "burst", "--get-function-rate": "get_function_rate"}
    while args:
        flag = args.pop(0)
        if flag in ("-h", "--help"):
            print(__doc__, file=sys.stderr)
            raise SystemExit(2)
        if not args:
            raise SystemExit("lambda_emulator: %s needs a value" % flag)
        value = args.pop(0)
        try:
            if flag in numbers:
                options[numbers[flag]] = float(value)
            elif flag == "--code-storage-limit":
                options["code_storage_limit"] = int(value)
            else:
                raise SystemExit("lambda_emulator: unknown argument %r (see --help)" % flag[:64])
        except ValueError:
            raise SystemExit("lambda_emulator: %s takes a number, not %r" % (flag, value[:64]))
    try:
        check_seconds(options["update_seconds"], "--update-seconds")
        check_int(options["code_storage_limit"], "--code-storage-limit", 0, 2**62)
        rate = None
        if options["rate"] is not None:
            rate = check_rate({"perSecond": options["rate"], "burst": options["burst"] or options["rate"],
                               "getFunctionPerSecond": options["get_function_rate"]})
        elif options["burst"] is not None:
            raise BadControl("--burst needs --rate")
    except BadControl as error:
        raise SystemExit("lambda_emulator: %s" % error)
    return options["update_seconds"], options["code_storage_limit"], rate


def main(argv):
    update_seconds, code_storage_limit, rate = parse_arguments(argv)
    parent = os.getppid()
    threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    moto = Moto()
    emulator = Emulator(moto, update_seconds, code_storage_limit, rate)
    server = Server((LOOPBACK, 0), make_handler(emulator, moto.port))
    server.emulator = emulator
    print("ready %d %d" % (server.server_address[1], moto.port), flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
