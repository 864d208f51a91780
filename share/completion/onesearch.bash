# SPDX-License-Identifier: MIT
# Bash completion for the onesearch programs: options come from the
# program's own --help (so they never fall out of step), catalogs, models
# and JSONL files from the file system; the words of word-valued options
# below are the lists the programs give os_cli_parse_choice. Installed under each program's
# name in bash-completion's completions directory.

_onesearch() {
	local cur prev opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	case "$prev" in
	--stage) mapfile -t COMPREPLY < <(compgen -W "sft distill align" -- "$cur"); return ;;
	--backend) mapfile -t COMPREPLY < <(compgen -W "stats llm" -- "$cur"); return ;;
	--fuse) mapfile -t COMPREPLY < <(compgen -W "bm25" -- "$cur"); return ;;
	--fusion) mapfile -t COMPREPLY < <(compgen -W "rrf score" -- "$cur"); return ;;
	--unseen) mapfile -t COMPREPLY < <(compgen -W "zero mean" -- "$cur"); return ;;
	--precision) mapfile -t COMPREPLY < <(compgen -W "fp32 bf16" -- "$cur"); return ;;
	--gain) mapfile -t COMPREPLY < <(compgen -W "exp linear" -- "$cur"); return ;;
	--emit) mapfile -t COMPREPLY < <(compgen -W "keywords tokens words ngrams embedding" -- "$cur"); return ;;
	esac
	if [[ "$cur" == -* ]]; then
		opts=$("$1" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*=\?' | sort -u)
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *= ]]; then
			compopt -o nospace 2>/dev/null || true
		fi
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null || true
	fi
	return 0
}

complete -F _onesearch os-tokenize os-quantize os-cot os-distill os-search os-eval
