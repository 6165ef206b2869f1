	Bposterior_log_variance_clippedJH“³
}
À“³
}
Às‹…DŞÀW[õ	`À‹~$tÀbëvBÚ`Àé±­üYÀ–d“²ÀØm#±À