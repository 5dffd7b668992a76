"""Shell completion scripts for bash, zsh and fish, made from mivid's command tree.

`mivid completion bash|zsh|fish` prints one; `scripts/gen_completions.py` writes
the committed copies in completions/ (which the wheel installs where shells look:
share/bash-completion/completions, share/zsh/site-functions,
share/fish/vendor_completions.d). `describe(root)` turns the click tree into plain
data (`Command`, `Option`, `Argument`), which the man page's generator reads too.

The scripts are static: completing runs no Python, so it is instant. They know
the commands, sub-commands and options, plus what the tree cannot say (mivid's
options are plain strings, checked by mivid so that every problem is reported at
once): the choice values below, the image files `create` takes, the jobs files
`batch` takes, and the folders `--download` and a DIR argument name.

Core, not CLI: it reads the tree it is handed by attribute and imports no Typer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mivid.endpoints import ENDPOINTS, all_choices, known_models
from mivid.fit import FIT_MODES
from mivid.settings import KEYS, REGION_HOSTS
from mivid.vocabulary import STATUS_FILTERS

HEADER = "Generated from mivid's commands (mivid completion SHELL); do not edit."

# Values an option takes, by option name (mivid checks them itself, not click).
OPTION_VALUES: dict[str, tuple[str, ...]] = {
    "--mode": all_choices("modes"),
    "--duration": all_choices("durations"),
    "--aspect-ratio": all_choices("aspect_ratios"),
    "--status": STATUS_FILTERS,
    "--region": tuple(REGION_HOSTS),
    "--fit-mode": FIT_MODES,
    "--model": known_models(),  # suggestions: a model mivid does not know is sent all the same
    "--endpoint": tuple(ENDPOINTS),
    "--video-use": all_choices("video_uses"),
}
DIRECTORY_OPTIONS = {"--download", "--output"}
IMAGE_OPTIONS = {"--first-frame", "--end-frame"}
IMAGE_SUFFIXES = ("jpg", "jpeg", "png")
# Positional arguments that can be completed, by (command path, argument name).
KEY_ARGUMENTS = {("config", "set", "key"), ("config", "get", "key"), ("config", "unset", "key")}
IMAGE_ARGUMENTS = {("create", "images")}
JOBS_ARGUMENTS = {("batch", "jobs")}
JOBS_SUFFIXES = ("jsonl", "csv")
FOLDER_ARGUMENTS = {("gallery", "directory"), ("sandbox", "examples", "directory")}
#: Arguments that take one of a few words, by (command path, argument name).
WORD_ARGUMENTS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("completion", "shell"): ("bash", "zsh", "fish"),
}
CONFIG_VALUE_ARGUMENT = ("config", "set", "value")
CONFIG_VALUES: dict[str, tuple[str, ...]] = {
    key.name: key.choices for key in KEYS.values() if key.choices
}


@dataclass
class Option:
    names: list[str]  # long names first, then short ones
    takes_value: bool
    metavar: str
    help: str
    values: tuple[str, ...] = ()
    directories: bool = False
    images: bool = False

    @property
    def long(self) -> list[str]:
        return [name for name in self.names if name.startswith("--")]

    @property
    def short(self) -> list[str]:
        return [name for name in self.names if not name.startswith("--")]


@dataclass
class Argument:
    name: str
    metavar: str
    help: str
    many: bool
    required: bool
    completes: str = ""  # "images", "jobs", "folders", "words", "keys", "config-value" or ""
    words: tuple[str, ...] = ()  # for "words"


@dataclass
class Command:
    path: tuple[str, ...]
    help: str
    epilog: str
    options: list[Option] = field(default_factory=list)
    arguments: list[Argument] = field(default_factory=list)
    subcommands: list[Command] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return self.help.split("\n\n")[0].replace("\n", " ").strip()

    @property
    def name(self) -> str:
        return " ".join(("mivid", *self.path))

    def walk(self) -> Iterator[Command]:
        yield self
        for sub in self.subcommands:
            yield from sub.walk()


def describe(root: Any) -> Command:
    """mivid's click command tree (`mivid.cli.load_command()`) as plain data, in the order
    `mivid --help` lists them."""
    return _convert((), root)


def _convert(path: tuple[str, ...], command: Any) -> Command:
    node = Command(path, (command.help or "").strip(), (command.epilog or "").strip())
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "option":
            names = sorted(param.opts + param.secondary_opts, key=lambda n: not n.startswith("--"))
            takes_value = not (param.is_flag or param.count)
            values = OPTION_VALUES.get(names[0], ()) if takes_value else ()
            metavar = param.metavar or (names[0].lstrip("-").upper() if takes_value else "")
            node.options.append(
                Option(
                    names,
                    takes_value,
                    metavar,
                    (param.help or "").strip(),
                    values,
                    directories=takes_value and names[0] in DIRECTORY_OPTIONS,
                    images=takes_value and names[0] in IMAGE_OPTIONS,
                )
            )
        else:
            key = (*path, param.name)
            completes = ""
            if key in IMAGE_ARGUMENTS:
                completes = "images"
            elif key in JOBS_ARGUMENTS:
                completes = "jobs"
            elif key in FOLDER_ARGUMENTS:
                completes = "folders"
            elif key in WORD_ARGUMENTS:
                completes = "words"
            elif key in KEY_ARGUMENTS:
                completes = "keys"
            elif key == CONFIG_VALUE_ARGUMENT:
                completes = "config-value"
            node.arguments.append(
                Argument(
                    param.name,
                    (param.metavar or param.name.upper()).rstrip("."),
                    (getattr(param, "help", None) or "").strip(),
                    many=param.nargs == -1,
                    required=bool(param.required),
                    completes=completes,
                    words=WORD_ARGUMENTS.get(key, ()),
                )
            )
    for name, sub in getattr(command, "commands", {}).items():
        if not sub.hidden:
            node.subcommands.append(_convert((*path, name), sub))
    return node


def short_help(text: str) -> str:
    """The first sentence of a help text, without `[env: …]`-style notes, on one line."""
    text = re.sub(r"\s*\[[^\]]*\]", "", " ".join(text.split()))
    match = re.match(r"(.+?[.;])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence.rstrip(".;")


# -- bash ----------------------------------------------------------------------------------


def bash(tree: Command) -> str:
    commands = list(tree.walk())
    out = [
        "# bash completion for mivid                                    -*- shell-script -*-",
        f"# {HEADER}",
        "#",
        "# Use it now:     source <(mivid completion bash)",
        "# Install it:     mivid completion bash > ~/.local/share/bash-completion/completions/mivid",
        "",
        "_mivid_subcommands() {",
        '    case "$1" in',
    ]
    for command in commands:
        if command.subcommands:
            names = " ".join(sub.path[-1] for sub in command.subcommands)
            out.append(f'        "{command.name}") echo "{names}" ;;')
    out += ["    esac", "}", "", "_mivid_options() {", '    case "$1" in']
    for command in commands:
        option_names = [name for option in command.options for name in option.names]
        out.append(f'        "{command.name}") echo "{" ".join([*option_names, "--help"])}" ;;')
    out += [
        "    esac",
        "}",
        "",
        "_mivid_takes_value() {",
        '    case "$1 $2" in',
    ]
    cases = [
        f'"{command.name} {name}"'
        for command in commands
        for option in command.options
        if option.takes_value
        for name in option.names
    ]
    out += _bash_case_lines(cases, "return 0")
    out += [
        "    esac",
        "    return 1",
        "}",
        "",
        "_mivid_option_values() {",
        '    case "$1 $2" in',
    ]
    for values in sorted({option.values for c in commands for option in c.options} - {()}):
        cases = [
            f'"{command.name} {name}"'
            for command in commands
            for option in command.options
            if option.values == values
            for name in option.names
        ]
        out += _bash_case_lines(cases, f'_mivid_words "{" ".join(values)}" "$3"')
    cases = [
        f'"{command.name} {name}"'
        for command in commands
        for option in command.options
        if option.directories
        for name in option.names
    ]
    out += _bash_case_lines(cases, '_mivid_directories "$3"')
    cases = [
        f'"{command.name} {name}"'
        for command in commands
        for option in command.options
        if option.images
        for name in option.names
    ]
    out += _bash_case_lines(cases, '_mivid_images "$3"')
    out += [
        "    esac",
        "}",
        "",
        "_mivid_arguments() {  # path, number of arguments before, the first one, current word",
        '    case "$1" in',
    ]
    for command in commands:
        actions = _bash_argument_actions(command)
        if actions:
            out.append(f'        "{command.name}")')
            out += [f"            {line}" for line in actions]
            out.append("            ;;")
    out += ["    esac", "}", "", _BASH_FUNCTIONS]
    return "\n".join(out) + "\n"


def _bash_case_lines(cases: list[str], action: str) -> list[str]:
    if not cases:
        return []
    lines = []
    for index in range(0, len(cases), 3):
        chunk = " | ".join(cases[index : index + 3])
        lines.append(f"        {chunk}" + (" | \\" if index + 3 < len(cases) else ")"))
    lines.append(f"            {action} ;;")
    return lines


def _bash_argument_actions(command: Command) -> list[str]:
    if command.subcommands:
        return []
    if not command.arguments:  # nothing but options: offer them
        return ['_mivid_words "$(_mivid_options "$1")" "$4"']
    first = command.arguments[0].completes
    if first == "images":
        return ['_mivid_images "$4"']
    if first == "jobs":
        return ['(($2 == 0)) && _mivid_jobs "$4"']
    if first == "folders":
        return ['(($2 == 0)) && _mivid_directories "$4"']
    if first == "words":
        return [f'(($2 == 0)) && _mivid_words "{" ".join(command.arguments[0].words)}" "$4"']
    if first == "keys":
        keys = " ".join(KEYS)
        lines = [f'(($2 == 0)) && _mivid_words "{keys}" "$4"']
        if len(command.arguments) > 1 and command.arguments[1].completes == "config-value":
            lines.append('if (($2 == 1)); then case "$3" in')
            for key, values in CONFIG_VALUES.items():
                lines.append(f'    {key}) _mivid_words "{" ".join(values)}" "$4" ;;')
            lines.append("esac; fi")
        return lines
    return []


_BASH_FUNCTIONS = r"""_mivid_words() {
    local IFS=$' \t\n'
    COMPREPLY=($(compgen -W "$1" -- "$2"))
    # Bash splits words at ':' (16:9): give back only the part after the last one.
    if [[ $2 == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local prefix=${2%"${2##*:}"} i
        for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}; done
    fi
}

_mivid_directories() {
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -d -- "$1"))
}

_mivid_images() {
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -d -- "$1"
        compgen -f -X '!*.[jJ][pP][gG]' -- "$1"
        compgen -f -X '!*.[jJ][pP][eE][gG]' -- "$1"
        compgen -f -X '!*.[pP][nN][gG]' -- "$1"))
}

_mivid_jobs() {
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -d -- "$1"
        compgen -f -X '!*.[jJ][sS][oO][nN][lL]' -- "$1"
        compgen -f -X '!*.[cC][sS][vV]' -- "$1"))
}

_mivid() {
    local cur cword
    local -a words
    if [[ -n ${COMP_LINE-} ]]; then
        # Split the line ourselves so '--mode=pro' and '16:9' stay one word.
        local line=${COMP_LINE:0:COMP_POINT}
        read -ra words <<<"$line"
        [[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=("")
        cword=$((${#words[@]} - 1))
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    cur=${words[cword]}
    COMPREPLY=()

    local path="mivid" i w
    local -a args=()
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case "$w" in
            --*=* | "=") ;;
            -) args+=("$w") ;;
            -*) _mivid_takes_value "$path" "$w" && ((i++)) ;;
            *)
                if ((${#args[@]} == 0)) && [[ " $(_mivid_subcommands "$path") " == *" $w "* ]]; then
                    path="$path $w"
                else
                    args+=("$w")
                fi
                ;;
        esac
    done

    local previous=${words[cword - 1]-}
    [[ $previous == "=" ]] && previous=${words[cword - 2]-}
    if [[ $cur == --*=* ]]; then
        _mivid_option_values "$path" "${cur%%=*}" "${cur#*=}"
        return 0
    fi
    if ((cword > 1)) && [[ $previous == -?* ]] && _mivid_takes_value "$path" "$previous"; then
        _mivid_option_values "$path" "$previous" "$cur"
        return 0
    fi
    if [[ $cur == -* ]]; then
        _mivid_words "$(_mivid_options "$path")" "$cur"
        return 0
    fi
    local subcommands
    subcommands=$(_mivid_subcommands "$path")
    if [[ -n $subcommands ]]; then
        _mivid_words "$subcommands" "$cur"
        return 0
    fi
    _mivid_arguments "$path" "${#args[@]}" "${args[0]-}" "$cur"
    return 0
}

complete -F _mivid mivid"""


# -- zsh -----------------------------------------------------------------------------------


def _zsh_quote(text: str) -> str:
    return text.replace("'", "'\\''")


def _zsh_description(text: str) -> str:
    text = short_help(text)
    return _zsh_quote(text.replace("\\", "\\\\").replace("[", "(").replace("]", ")"))


def _zsh_function(command: Command) -> str:
    return "_mivid" + "".join("_" + part.replace("-", "_") for part in command.path)


_ZSH_IMAGE_PATTERN = "|".join(IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES))
_ZSH_IMAGE_FILES = f"_files -g '\\''*.({_ZSH_IMAGE_PATTERN})'\\''"


def _zsh_option_specs(option: Option) -> list[str]:
    exclusive = f"({' '.join(option.names)})" if len(option.names) > 1 else ""
    description = _zsh_description(option.help)
    action = ""
    if option.takes_value:
        message = option.metavar.lower()
        if option.values:
            words = " ".join(value.replace(":", "\\:") for value in option.values)
            action = f":{message}:({words})"
        elif option.directories:
            action = f":{message}:_files -/"
        elif option.images:
            action = f":{message}:{_ZSH_IMAGE_FILES}"
        else:
            action = f":{message}: "
    specs = []
    for name in option.names:
        suffix = ("=" if name.startswith("--") else "+") if option.takes_value else ""
        specs.append(f"'{exclusive}{name}{suffix}[{description}]{action}'")
    return specs


def zsh(tree: Command) -> str:
    out = [
        "#compdef mivid",
        f"# zsh completion for mivid. {HEADER}",
        "#",
        "# Install it: save it as _mivid in a folder on $fpath, e.g.",
        "#   mkdir -p ~/.zfunc && mivid completion zsh > ~/.zfunc/_mivid",
        "#   and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)",
        "",
    ]
    for command in tree.walk():
        out += _zsh_command(command)
    out += [
        'if [[ "${funcstack[1]-}" == _mivid ]]; then',
        '    _mivid "$@"',
        "else",
        "    compdef _mivid mivid",
        "fi",
    ]
    return "\n".join(out) + "\n"


def _zsh_command(command: Command) -> list[str]:
    specs = [spec for option in command.options for spec in _zsh_option_specs(option)]
    specs.append("'(- *)'{-h,--help}'[Show the help and exit]'")
    lines = [f"{_zsh_function(command)}() {{"]
    if command.subcommands:
        lines += [
            '    local curcontext="$curcontext" state state_descr line',
            "    typeset -A opt_args",
            "    _arguments -C -s \\",
            *[f"        {spec} \\" for spec in specs],
            "        ': :->command' \\",
            "        '*:: :->argument' && return",
            "    case $state in",
            "        command)",
            "            local -a commands",
            "            commands=(",
        ]
        for sub in command.subcommands:
            entry = f"{sub.path[-1]}:{_zsh_quote(short_help(sub.summary))}"
            lines.append(f"                '{entry}'")
        lines += [
            "            )",
            f"            _describe -t commands '{command.name} command' commands",
            "            ;;",
            "        argument)",
            '            curcontext="${curcontext%:*:*}:mivid-$words[1]:"',
            "            case $words[1] in",
        ]
        for sub in command.subcommands:
            lines.append(f"                {sub.path[-1]}) {_zsh_function(sub)} ;;")
        lines += ["            esac", "            ;;", "    esac", "}", ""]
        return lines
    argument_specs = []
    value_state = False
    for index, argument in enumerate(command.arguments, start=1):
        position = "*" if argument.many else str(index)
        message = argument.metavar.lower()
        if argument.completes == "images":
            action = _ZSH_IMAGE_FILES
        elif argument.completes == "jobs":
            action = "_files -g '\\''*.(jsonl|csv|JSONL|CSV)'\\''"
        elif argument.completes == "folders":
            action = "_files -/"
        elif argument.completes == "words":
            action = "(" + " ".join(argument.words) + ")"
        elif argument.completes == "keys":
            action = "(" + " ".join(KEYS) + ")"
        elif argument.completes == "config-value":
            action = "->value"
            value_state = True
        else:
            action = " "
        argument_specs.append(f"'{position}:{message}:{action}'")
    lines += [
        '    local curcontext="$curcontext" state state_descr line',
        "    typeset -A opt_args",
        "    _arguments -C -s \\",
        *[f"        {spec} \\" for spec in specs + argument_specs[:-1]],
        f"        {(specs + argument_specs)[-1]} && return",
    ]
    if value_state:
        lines += ["    case $state in", "        value)", "            case $line[1] in"]
        for key, values in CONFIG_VALUES.items():
            words = " ".join(value.replace(":", "\\:") for value in values)
            lines.append(f"                {key}) _values {key} {words} ;;")
        lines += ["            esac", "            ;;", "    esac"]
    lines += ["}", ""]
    return lines


# -- fish ----------------------------------------------------------------------------------


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(tree: Command) -> str:
    commands = list(tree.walk())
    out = [
        f"# fish completion for mivid. {HEADER}",
        "#",
        "# Install it: mivid completion fish > ~/.config/fish/completions/mivid.fish",
        "",
        "function __mivid_subcommands",
        "    switch $argv[1]",
    ]
    for command in commands:
        if command.subcommands:
            names = " ".join(sub.path[-1] for sub in command.subcommands)
            out += [f"        case {_fish_quote(command.name)}", f"            echo {names}"]
    out += ["    end", "end", "", "function __mivid_takes_value", "    switch $argv[1]"]
    for command in commands:
        valued = [n for option in command.options if option.takes_value for n in option.names]
        if valued:
            out += [
                f"        case {_fish_quote(command.name)}",
                f"            contains -- $argv[2] {' '.join(valued)}",
                "            return",
            ]
    out += ["    end", "    return 1", "end", "", _FISH_FUNCTIONS, "", "complete -c mivid -f"]
    for command in commands:
        condition = f"__mivid_using {_fish_quote(command.name)}"
        for sub in command.subcommands:
            out.append(
                f"complete -c mivid -n {_fish_quote(condition)} -a {sub.path[-1]}"
                f" -d {_fish_quote(short_help(sub.summary))}"
            )
        for option in command.options:
            parts = [f"complete -c mivid -n {_fish_quote(condition)}"]
            parts += [f"-l {name[2:]}" for name in option.long]
            parts += [f"-s {name[1:]}" for name in option.short]
            if option.takes_value:
                parts.append("-x")
                if option.values:
                    parts.append(f"-a {_fish_quote(' '.join(option.values))}")
                elif option.directories:
                    parts.append("-a '(__fish_complete_directories (commandline -ct))'")
                elif option.images:
                    parts.append("-a '(__mivid_images)'")
            parts.append(f"-d {_fish_quote(short_help(option.help))}")
            out.append(" ".join(parts))
        out.append(f"complete -c mivid -n {_fish_quote(condition)} -s h -l help -d 'Show the help'")
        out += _fish_arguments(command, condition)
    return "\n".join(out) + "\n"


def _fish_arguments(command: Command, condition: str) -> list[str]:
    """The `complete` lines of a command's positional arguments."""
    out: list[str] = []
    for index, argument in enumerate(command.arguments):
        at = f"__mivid_argument {_fish_quote(command.name)} {index}"
        if argument.completes == "images":
            out.append(f"complete -c mivid -n {_fish_quote(condition)} -k -a '(__mivid_images)'")
        elif argument.completes == "jobs":
            out.append(f"complete -c mivid -n {_fish_quote(at)} -k -a '(__mivid_jobs)'")
        elif argument.completes == "folders":
            out.append(
                f"complete -c mivid -n {_fish_quote(at)}"
                " -a '(__fish_complete_directories (commandline -ct))'"
            )
        elif argument.completes == "words":
            words = _fish_quote(" ".join(argument.words))
            out.append(f"complete -c mivid -n {_fish_quote(at)} -a {words}")
        elif argument.completes == "keys":
            for key in KEYS.values():
                out.append(
                    f"complete -c mivid -n {_fish_quote(at)} -a {key.name}"
                    f" -d {_fish_quote(key.help)}"
                )
        elif argument.completes == "config-value":
            for key_name, values in CONFIG_VALUES.items():
                condition_value = f"{at}; and __mivid_first_argument_is {key_name}"
                out.append(
                    f"complete -c mivid -n {_fish_quote(condition_value)}"
                    f" -a {_fish_quote(' '.join(values))}"
                )
    return out


_FISH_FUNCTIONS = r"""# Prints the command path being completed, the number of arguments so far, and the first one.
function __mivid_state
    set -l words (commandline -opc)
    set -l path mivid
    set -l arguments
    set -l skip 0
    for word in $words[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $word
            case '--*=*'
            case '-'
                set -a arguments $word
            case '-*'
                if __mivid_takes_value $path $word
                    set skip 1
                end
            case '*'
                if test (count $arguments) -eq 0; and contains -- $word (string split ' ' -- (__mivid_subcommands $path))
                    set path "$path $word"
                else
                    set -a arguments $word
                end
        end
    end
    echo $path
    echo (count $arguments)
    echo "$arguments[1]"
end

function __mivid_using
    set -l state (__mivid_state)
    test "$state[1]" = "$argv[1]"
end

function __mivid_argument
    set -l state (__mivid_state)
    test "$state[1]" = "$argv[1]"; and test "$state[2]" = "$argv[2]"
end

function __mivid_first_argument_is
    set -l state (__mivid_state)
    test "$state[3]" = "$argv[1]"
end

function __mivid_images
    set -l token (commandline -ct)
    for file in $token*
        if test -d $file
            echo $file/
        else if string match -qir '\.(jpe?g|png)$' -- $file
            echo $file
        end
    end
end

function __mivid_jobs
    set -l token (commandline -ct)
    for file in $token*
        if test -d $file
            echo $file/
        else if string match -qir '\.(jsonl|csv)$' -- $file
            echo $file
        end
    end
end"""


#: The script for each shell, by the name `mivid completion` takes.
SHELLS = {"bash": bash, "zsh": zsh, "fish": fish}
#: The committed file of each shell's script, in completions/.
FILE_NAMES = {"bash": "mivid.bash", "zsh": "_mivid", "fish": "mivid.fish"}
