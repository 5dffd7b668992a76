# bash completion for mivid                                    -*- shell-script -*-
# Generated from mivid's commands (mivid completion SHELL); do not edit.
#
# Use it now:     source <(mivid completion bash)
# Install it:     mivid completion bash > ~/.local/share/bash-completion/completions/mivid

_mivid_subcommands() {
    case "$1" in
        "mivid") echo "create get list wait download recover batch open gallery spent account models completion sandbox config" ;;
        "mivid sandbox") echo "examples serve" ;;
        "mivid config") echo "set get unset show path check" ;;
    esac
}

_mivid_options() {
    case "$1" in
        "mivid") echo "--region --base-url --profile --sandbox --verbose -v --debug --no-color --version --help" ;;
        "mivid create") echo "--prompt -p --negative-prompt -n --model --endpoint --first-frame --end-frame --element --video --video-use --keep-sound --no-keep-sound --mode --duration --aspect-ratio --watermark --no-watermark --callback-url --external-task-id --fit --fit-mode --dry-run --json --quiet -q --wait -w --download -d --watermarked --gallery --timeout --max-units --from --no-journal --help" ;;
        "mivid get") echo "--json --quiet -q --help" ;;
        "mivid list") echo "--page --page-size --all --status --endpoint --json --quiet -q --local --watch -W --interval --help" ;;
        "mivid wait") echo "--interval --timeout --download -d --watermarked --force --gallery --json --quiet -q --help" ;;
        "mivid download") echo "--download -d --watermarked --force --json --quiet -q --help" ;;
        "mivid recover") echo "--json --limit --help" ;;
        "mivid batch") echo "--concurrency -c --download -d --watermarked --gallery --fit --fit-mode --interval --json --dry-run --max-units --no-journal --help" ;;
        "mivid open") echo "--download -d --print --help" ;;
        "mivid gallery") echo "--open --json --help" ;;
        "mivid spent") echo "--since --json --help" ;;
        "mivid account") echo "--json --help" ;;
        "mivid models") echo "--json --quiet -q --help" ;;
        "mivid completion") echo "--help" ;;
        "mivid sandbox") echo "--help" ;;
        "mivid sandbox examples") echo "--help" ;;
        "mivid sandbox serve") echo "--port --host --task-seconds --concurrency-limit --units --answers --retire-model --video-head-status --help" ;;
        "mivid config") echo "--help" ;;
        "mivid config set") echo "--help" ;;
        "mivid config get") echo "--reveal --json --help" ;;
        "mivid config unset") echo "--help" ;;
        "mivid config show") echo "--json --help" ;;
        "mivid config path") echo "--help" ;;
        "mivid config check") echo "--json --help" ;;
    esac
}

_mivid_takes_value() {
    case "$1 $2" in
        "mivid --region" | "mivid --base-url" | "mivid --profile" | \
        "mivid create --prompt" | "mivid create -p" | "mivid create --negative-prompt" | \
        "mivid create -n" | "mivid create --model" | "mivid create --endpoint" | \
        "mivid create --first-frame" | "mivid create --end-frame" | "mivid create --element" | \
        "mivid create --video" | "mivid create --video-use" | "mivid create --mode" | \
        "mivid create --duration" | "mivid create --aspect-ratio" | "mivid create --callback-url" | \
        "mivid create --external-task-id" | "mivid create --fit-mode" | "mivid create --download" | \
        "mivid create -d" | "mivid create --timeout" | "mivid create --max-units" | \
        "mivid create --from" | "mivid list --page" | "mivid list --page-size" | \
        "mivid list --status" | "mivid list --endpoint" | "mivid list --interval" | \
        "mivid wait --interval" | "mivid wait --timeout" | "mivid wait --download" | \
        "mivid wait -d" | "mivid download --download" | "mivid download -d" | \
        "mivid recover --limit" | "mivid batch --concurrency" | "mivid batch -c" | \
        "mivid batch --download" | "mivid batch -d" | "mivid batch --fit-mode" | \
        "mivid batch --interval" | "mivid batch --max-units" | "mivid open --download" | \
        "mivid open -d" | "mivid spent --since" | "mivid sandbox serve --port" | \
        "mivid sandbox serve --host" | "mivid sandbox serve --task-seconds" | "mivid sandbox serve --concurrency-limit" | \
        "mivid sandbox serve --units" | "mivid sandbox serve --answers" | "mivid sandbox serve --retire-model" | \
        "mivid sandbox serve --video-head-status")
            return 0 ;;
    esac
    return 1
}

_mivid_option_values() {
    case "$1 $2" in
        "mivid create --aspect-ratio")
            _mivid_words "16:9 9:16 1:1" "$3" ;;
        "mivid create --duration")
            _mivid_words "3 4 5 6 7 8 9 10" "$3" ;;
        "mivid create --video-use")
            _mivid_words "feature base" "$3" ;;
        "mivid --region")
            _mivid_words "global china" "$3" ;;
        "mivid create --model")
            _mivid_words "kling-v1-6 kling-video-o1 kling-v3-omni" "$3" ;;
        "mivid create --endpoint" | "mivid list --endpoint")
            _mivid_words "multi-image omni" "$3" ;;
        "mivid create --fit-mode" | "mivid batch --fit-mode")
            _mivid_words "pad crop" "$3" ;;
        "mivid create --mode")
            _mivid_words "std pro" "$3" ;;
        "mivid list --status")
            _mivid_words "submitted processing succeed failed unfinished" "$3" ;;
        "mivid create --download" | "mivid create -d" | "mivid wait --download" | \
        "mivid wait -d" | "mivid download --download" | "mivid download -d" | \
        "mivid batch --download" | "mivid batch -d" | "mivid open --download" | \
        "mivid open -d")
            _mivid_directories "$3" ;;
        "mivid create --first-frame" | "mivid create --end-frame")
            _mivid_images "$3" ;;
    esac
}

_mivid_arguments() {  # path, number of arguments before, the first one, current word
    case "$1" in
        "mivid create")
            _mivid_images "$4"
            ;;
        "mivid list")
            _mivid_words "$(_mivid_options "$1")" "$4"
            ;;
        "mivid recover")
            _mivid_words "$(_mivid_options "$1")" "$4"
            ;;
        "mivid batch")
            (($2 == 0)) && _mivid_jobs "$4"
            ;;
        "mivid gallery")
            (($2 == 0)) && _mivid_directories "$4"
            ;;
        "mivid spent")
            _mivid_words "$(_mivid_options "$1")" "$4"
            ;;
        "mivid account")
            _mivid_words "$(_mivid_options "$1")" "$4"
            ;;
        "mivid models")
            _mivid_words "$(_mivid_options "$1")" "$4"
            ;;
        "mivid completion")
            (($2 == 0)) && _mivid_words "bash zsh fish" "$4"
            ;;
        "mivid sandbox examples")
            (($2 == 0)) && _mivid_directories "$4"
            ;;
        "mivid sandbox serve")
            _mivid_words "$(_mivid_options "$1")" "$4"
            ;;
        "mivid config set")
            (($2 == 0)) && _mivid_words "access-key secret-key api-key region base-url model mode duration aspect-ratio" "$4"
            if (($2 == 1)); then case "$3" in
                region) _mivid_words "global china" "$4" ;;
                mode) _mivid_words "std pro" "$4" ;;
                duration) _mivid_words "3 4 5 6 7 8 9 10" "$4" ;;
                aspect-ratio) _mivid_words "16:9 9:16 1:1" "$4" ;;
            esac; fi
            ;;
        "mivid config get")
            (($2 == 0)) && _mivid_words "access-key secret-key api-key region base-url model mode duration aspect-ratio" "$4"
            ;;
        "mivid config unset")
            (($2 == 0)) && _mivid_words "access-key secret-key api-key region base-url model mode duration aspect-ratio" "$4"
            ;;
        "mivid config show")
            _mivid_words "$(_mivid_options "$1")" "$4"
            ;;
        "mivid config path")
            _mivid_words "$(_mivid_options "$1")" "$4"
            ;;
        "mivid config check")
            _mivid_words "$(_mivid_options "$1")" "$4"
            ;;
    esac
}

_mivid_words() {
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

complete -F _mivid mivid
