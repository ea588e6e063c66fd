# bash completion for routegraph: options, subcommands, the values of
# --format and --asn-source, file arguments and target host names.
#
# The option names, which of them take a value, and the subcommands the
# usage lines show are read from the program's own --help each time (it
# prints in a few milliseconds, without privileges), so an option added to
# the program completes without an edit here. The lists below add what
# --help does not spell out; tests/completion/run.sh checks the result
# against --help and the man page so they cannot drift.

_routegraph_subcommands="render watch diff history lookup"
_routegraph_formats="table json jsonl dot svg png html all"
_routegraph_asn_sources="offline cymru none"

# Prints one "OPTION PLACEHOLDER" line per option in the help text read from
# stdin; PLACEHOLDER is "-" for an option that takes no separate value.
# An option line is indented by at most 8 blanks and starts with '-'; its
# first column (up to two blanks) holds "-p, --ports LIST", "--stop-set[=N]"
# or "-4"; descriptions are indented further. A long option the text only
# mentions (an alias, say) is offered too, as taking no value.
_routegraph_parse_help()
{
    local line head item opt arg text
    local -a items opts
    while IFS= read -r line; do
        text+=$line$'\n'
        [[ $line =~ ^\ {1,8}(-.*)$ ]] || continue
        head=${BASH_REMATCH[1]%%  *}
        arg=-
        opts=()
        IFS=$'\x1f' read -ra items <<<"${head//, /$'\x1f'}"
        for item in "${items[@]}"; do
            item=${item# }
            if [[ $item =~ ^(--?[A-Za-z0-9][A-Za-z0-9-]*)(\[=[^]]*\])?([ =]([A-Z][A-Za-z_.:]*))?$ ]]; then
                opts+=("${BASH_REMATCH[1]}")
                [[ -n ${BASH_REMATCH[4]} ]] && arg=${BASH_REMATCH[4]}
            fi
        done
        for opt in "${opts[@]}"; do
            printf '%s %s\n' "$opt" "$arg"
        done
    done
    grep -oE -- '--[a-z][a-z0-9-]*' <<<"$text" | sed 's/$/ -/'
}

# Prints the subcommands the usage lines (the help's first paragraph) show:
# "Usage: routegraph render RESULTS.json ..." or "       routegraph watch ...".
_routegraph_usage_subcommands()
{
    local line
    while IFS= read -r line && [[ -n $line ]]; do
        [[ $line =~ ^(Usage:)?\ +routegraph\ ([a-z][a-z-]*)(\ |$) ]] &&
            printf '%s\n' "${BASH_REMATCH[2]}"
    done
}

# Completes a comma-separated list: the words before the last comma stay.
_routegraph_comma_list()
{
    local cur=$1 words=$2 done=
    [[ $cur == *,* ]] && done=${cur%,*},
    mapfile -t COMPREPLY < <(compgen -W "$words" -P "$done" -- "${cur##*,}")
    [[ ${#COMPREPLY[@]} -eq 1 ]] && compopt -o nospace 2>/dev/null
    return 0
}

# Completes file names; with patterns, directories and the files that
# match one of them.
_routegraph_files()
{
    local cur=$1 pattern
    shift
    compopt -o filenames 2>/dev/null
    if [[ $# -eq 0 ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return 0
    fi
    mapfile -t COMPREPLY < <(compgen -d -- "$cur"
        for pattern in "$@"; do compgen -f -X "!$pattern" -- "$cur"; done)
}

_routegraph()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev='' cword=$COMP_CWORD
    local cmd=${COMP_WORDS[0]} sub='' subs='' i w help
    local -A takes=()

    # bash splits "--format=svg" at '=': the option is then two words back.
    if [[ $cur == "=" ]]; then
        prev=${COMP_WORDS[cword - 1]}
        cur=
    elif [[ $cword -ge 2 && ${COMP_WORDS[cword - 1]} == "=" ]]; then
        prev=${COMP_WORDS[cword - 2]}
    elif [[ $cword -ge 1 ]]; then
        prev=${COMP_WORDS[cword - 1]}
    fi

    # shellcheck disable=SC2088 # a literal tilde: the word as typed
    [[ $cmd == "~/"* ]] && cmd=$HOME/${cmd#"~/"}
    help=$(LC_ALL=C "$cmd" --help 2>/dev/null)
    for w in $_routegraph_subcommands $(_routegraph_usage_subcommands <<<"$help"); do
        [[ " $subs " == *" $w "* ]] || subs+=" $w"
    done
    if [[ $cword -ge 2 && " $subs " == *" ${COMP_WORDS[1]} "* ]]; then
        sub=${COMP_WORDS[1]}
        help=$(LC_ALL=C "$cmd" "$sub" --help 2>/dev/null)
    fi
    while read -r w i; do
        # The first reading wins: it knows whether the option takes a value.
        [[ -n $w && -z ${takes[$w]+set} ]] && takes[$w]=$i
    done < <(_routegraph_parse_help <<<"$help")

    # The value of an option.
    case $prev in
        --format) _routegraph_comma_list "$cur" "$_routegraph_formats"; return 0 ;;
        --asn-source) _routegraph_comma_list "$cur" "$_routegraph_asn_sources"; return 0 ;;
        -P | --protocol) mapfile -t COMPREPLY < <(compgen -W "tcp udp icmp" -- "$cur"); return 0 ;;
        --graph-level) mapfile -t COMPREPLY < <(compgen -W "router as auto" -- "$cur"); return 0 ;;
        --mmdb) _routegraph_files "$cur" '*.mmdb'; return 0 ;;
        --asn-db | --country-db) _routegraph_files "$cur" '*.csv' '*.rgidx'; return 0 ;;
    esac
    if [[ -n $prev && -n ${takes[$prev]+set} && ${takes[$prev]} != - ]]; then
        case ${takes[$prev]} in
            FILE* | PREFIX* | PATH* | DIR*) _routegraph_files "$cur" ;;
            *) COMPREPLY=() ;; # a number, an address, a port list
        esac
        return 0
    fi

    # After "--" every word is a target.
    for ((i = 1; i < cword; i++)); do
        if [[ ${COMP_WORDS[i]} == -- ]]; then
            mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur")
            return 0
        fi
    done

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "${!takes[*]}" -- "$cur")
        return 0
    fi
    case $sub in
        render | diff) _routegraph_files "$cur" '*.json'; return 0 ;;
        history) _routegraph_files "$cur"; return 0 ;; # the SQLite file
        watch | lookup | '') ;;                        # targets, addresses
        *) _routegraph_files "$cur"; return 0 ;;
    esac
    mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur"
        [[ $cword -eq 1 ]] && compgen -W "$subs" -- "$cur")
    return 0
}

complete -F _routegraph routegraph
