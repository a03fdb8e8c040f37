#!/usr/bin/env python3
"""Run action.yml's composite steps the way a GitHub runner does, for ci/test-release.sh.

  run_action.py [--outputs FILE] ACTION_DIR WORKSPACE [input=value ...]

For each step: `${{ inputs.X }}` (with action.yml's defaults), `${{ github.action_ref }}`
(from GITHUB_ACTION_REF, default empty) and `${{ steps.ID.outputs.K }}` are substituted in the
step's env and working-directory (never in its script, which action.yml keeps free of
expressions: the test fails if one appears there); the script runs as
`bash --noprofile --norc -eo pipefail FILE` with GITHUB_ACTION_PATH, GITHUB_PATH, GITHUB_OUTPUT
(one file per step), RUNNER_TEMP and GITHUB_ACTIONS=true set, like the runner. Lines appended to
GITHUB_PATH are put on PATH for the later steps. The action's outputs are then resolved from
the steps' outputs and written as `name=value` lines, one per output, to FILE (default: stdout,
after whatever the steps printed).

Reads only `name=value` output lines (the runner's heredoc form `name<<DELIM` too).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def parse_outputs(path):
    outputs = {}
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            while index < len(lines) and lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            index += 1
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def main():
    arguments = sys.argv[1:]
    outputs_file = None
    if arguments[:1] == ["--outputs"] and len(arguments) > 1:
        outputs_file, arguments = arguments[1], arguments[2:]
    if len(arguments) < 2:
        sys.stderr.write(__doc__)
        return 64
    action_dir, workspace = os.path.abspath(arguments[0]), os.path.abspath(arguments[1])
    given = dict(argument.split("=", 1) for argument in arguments[2:])
    with open(os.path.join(action_dir, "action.yml"), encoding="utf-8") as handle:
        action = yaml.safe_load(handle)
    inputs = {name: str(spec.get("default", "")) for name, spec in action.get("inputs", {}).items()}
    unknown = set(given) - set(inputs)
    if unknown:
        sys.stderr.write(f"run_action: action.yml has no input {sorted(unknown)}\n")
        return 64
    inputs.update(given)
    assert action["runs"]["using"] == "composite", "only composite actions"

    step_outputs = {}

    def substitute(text):
        def value(match):
            expression = match.group(1)
            if expression.startswith("inputs."):
                return inputs[expression[len("inputs."):]]
            if expression == "github.action_ref":
                return os.environ.get("GITHUB_ACTION_REF", "")
            found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
            if found:
                return step_outputs.get(found.group(1), {}).get(found.group(2), "")
            raise SystemExit(f"run_action: unsupported expression ${{{{ {expression} }}}}")
        return EXPRESSION.sub(value, str(text))

    runner_temp = tempfile.mkdtemp(prefix="run-action-")
    try:
        return run_steps(action, inputs, step_outputs, substitute, runner_temp, action_dir, workspace, outputs_file)
    finally:
        shutil.rmtree(runner_temp, ignore_errors=True)


def run_steps(action, inputs, step_outputs, substitute, runner_temp, action_dir, workspace, outputs_file):
    path_file = os.path.join(runner_temp, "github_path")
    open(path_file, "w").close()
    for number, step in enumerate(action["runs"]["steps"]):
        script = step["run"]
        if EXPRESSION.search(script):
            sys.stderr.write(f"run_action: step '{step.get('name')}' has an expression in its script; pass it through env\n")
            return 1
        output_file = os.path.join(runner_temp, f"output-{number}")
        open(output_file, "w").close()
        script_file = os.path.join(runner_temp, f"step-{number}.sh")
        with open(script_file, "w", encoding="utf-8") as handle:
            handle.write(script)
        env = dict(os.environ)
        with open(path_file, encoding="utf-8") as handle:
            added = [line.strip() for line in handle if line.strip()]
        env["PATH"] = os.pathsep.join(list(reversed(added)) + [env.get("PATH", "")])
        env.update({
            "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": action_dir, "GITHUB_WORKSPACE": workspace,
            "GITHUB_PATH": path_file, "GITHUB_OUTPUT": output_file, "RUNNER_TEMP": runner_temp,
        })
        env.update({name: substitute(value) for name, value in (step.get("env") or {}).items()})
        cwd = os.path.join(workspace, substitute(step.get("working-directory", ".")))
        assert step.get("shell") == "bash", "action.yml's steps use bash"
        status = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", script_file], cwd=cwd, env=env, timeout=600)
        if status != 0:
            sys.stderr.write(f"run_action: step '{step.get('name')}' exited {status}\n")
            return status
        if "id" in step:
            step_outputs[step["id"]] = parse_outputs(output_file)
    lines = "".join(f"{name}={substitute(spec['value'])}\n" for name, spec in action.get("outputs", {}).items())
    if outputs_file:
        with open(outputs_file, "w", encoding="utf-8") as handle:
            handle.write(lines)
    else:
        sys.stdout.write(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
