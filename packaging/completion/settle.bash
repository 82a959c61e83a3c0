# bash completion for settle(1).  tests/integration/cli-completion.sh checks
# that the options below are exactly what each command's --help lists.
_settle()
{
    local cur prev words cword
    _init_completion || return

    local commands="pair trust list show remove export install uninstall audit reset refresh renew discover device help"
    local -A options=(
        [pair]="--qr --payload --code --address --name --camera --role --label --referee --scope --timeout --yes --verbose --help"
        [trust]="--ca --peer --fingerprint --scope --referee --manufacturer --label --yes --verbose --help"
        [list]="--json --verbose --help"
        [show]="--json --verbose --help"
        [remove]="--fingerprint --yes --verbose --help"
        [export]="--pem --dir --keep --forget --verbose --help"
        [install]="--nssdb --chromium --firefox --openssl --module --verbose --help"
        [uninstall]="--nssdb --chromium --firefox --openssl --verbose --help"
        [audit]="--json --device --expect-admin --address --timeout --verbose --help"
        [reset]="--yes --verbose --help"
        [refresh]="--address --all --timeout --verbose --help"
        [renew]="--address --all --force --timeout --verbose --help"
        [discover]="--json --timeout --verbose --help"
        [device]="--allow --disallow --address --timeout --yes --verbose --help"
    )

    if [[ $cword -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
        return
    fi
    local command=${words[1]}
    if [[ $command == help ]]; then
        [[ $cword -eq 2 ]] && COMPREPLY=($(compgen -W "${commands% help}" -- "$cur"))
        return
    fi
    case $prev in
        --qr|--ca|--peer|--pem|--module)
            _filedir
            return ;;
        --dir|--nssdb|--forget)
            _filedir -d
            return ;;
        --role)
            COMPREPLY=($(compgen -W "admin user guest" -- "$cur"))
            return ;;
        --payload|--code|--address|--name|--label|--timeout|--fingerprint|--scope|--expect-admin)
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "${options[$command]}" -- "$cur"))
    elif [[ $command == device && $cword -eq 2 ]]; then
        COMPREPLY=($(compgen -W "revoke-client role origins" -- "$cur"))
    elif [[ $command == device && ${words[2]} == role && $cword -eq 5 ]]; then
        COMPREPLY=($(compgen -W "admin user guest" -- "$cur"))
    elif [[ $command == show || $command == remove ]]; then
        # Names, labels and fingerprints of what is trusted, without a prompt.
        local names
        names=$(settle list --json 2>/dev/null | python3 -c 'import json, sys
for a in json.load(sys.stdin).get("anchors", []):
    print("\n".join(a.get("names", [])) or a["fingerprint"])' 2>/dev/null)
        COMPREPLY=($(compgen -W "$names" -- "$cur"))
    fi
} &&
    complete -F _settle settle
