# Paged lists on a real registry (Debian's docker-registry): the tag list of
# a repository and the registry's catalog (`modelgate ls HOST:PORT`), walked
# page by page to the end with small pages (MODELGATE_PAGE_SIZE), each entry
# exactly once. docker-registry 2.8 pages its catalog itself (?n=, ?last=,
# Link) but ignores n and last on tag lists: the fault proxy's pagetags mode
# pages those the same way, and the registry as it is shows that a list that
# fills a page exactly is not taken twice. A registry that refuses its
# catalog is exit 2 with a message that says so. Link loops, Links to
# other hosts and endless lists are in t_remote_hostile.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

fixtures
export SOURCE_DATE_EPOCH=1700000000
registry_start
export MODELGATE_INSECURE_REGISTRIES=$REG
must mg push "$REG/team/many:t1" "$FX/model.onnx"
D=$(cat "$OUT")
TAGS="t1"
for i in $(seq 2 25); do
	must mg tag "$REG/team/many:t1" "t$i"
	TAGS="$TAGS t$i"
done
must mg push "$REG/other/kws:v1" "$FX/model_v2.onnx"
must mg push "$REG/zoo/a/b:v1" "$FX/model_int8.onnx"
REPOS="other/kws team/many zoo/a/b"

via() { # MODE: a proxy with MODE in front of the registry
	proxy_start "$1"
	export MODELGATE_INSECURE_REGISTRIES="$REG,$PROXY"
}

# every_tag_once HOST: the JSON of `ls --json HOST/team/many` in $OUT has
# every tag of TAGS exactly once, each with the pushed digest
every_tag_once() {
	json_ok "sorted(e['tag'] for e in j) == sorted('$TAGS'.split())"
	json_ok "all(e['repository'] == '$1/team/many' and e['digest'] == '$D' for e in j)"
}

# list_requests: the tag list requests in the proxy log
list_requests() {
	grep '^GET /v2/team/many/tags/list' "$PROXY_LOG" || true
}

t_tag_list_walked_page_by_page() {
	via pagetags
	MODELGATE_PAGE_SIZE=10 expect_exit 0 mg ls --json "$PROXY/team/many"
	every_tag_once "$PROXY"
	[ "$(list_requests | wc -l)" -eq 3 ] || fail "expected 3 pages of 10, 10 and 5 tags: $(list_requests)"
	[ "$(list_requests | grep -c 'n=10&last=t')" -eq 2 ] ||
		fail "the second and third pages were not asked for after the last tag: $(list_requests)"
	MODELGATE_PAGE_SIZE=10 expect_exit 0 mg ls "$PROXY/team/many"
	[ "$(grep -c "^$PROXY/team/many " "$OUT")" -eq 25 ] || fail "ls does not show 25 versions"
	proxy_stop
}

t_tag_list_that_fills_its_pages_exactly() {
	via pagetags
	MODELGATE_PAGE_SIZE=5 expect_exit 0 mg ls --json "$PROXY/team/many"
	every_tag_once "$PROXY"
	[ "$(list_requests | wc -l)" -ge 5 ] || fail "5 pages of 5 tags were not walked: $(list_requests)"
	proxy_stop
}

t_registry_that_ignores_n_and_last() {
	# docker-registry 2.8 sends all 25 tags whatever n is; asked for the
	# page after a full one, it sends the same tags again
	MODELGATE_PAGE_SIZE=25 expect_exit 0 mg ls --json "$REG/team/many"
	every_tag_once "$REG"
	MODELGATE_PAGE_SIZE=10 expect_exit 0 mg ls --json "$REG/team/many"
	every_tag_once "$REG"
}

t_catalog_lists_repositories() {
	expect_exit 0 mg ls "$REG"
	[ "$(cat "$OUT")" = "$(printf "$REG/%s\n" $REPOS)" ] || fail "ls $REG does not list $REPOS"
	expect_exit 0 mg ls --json "$REG/"
	json_ok "[e['name'] for e in j] == '$REPOS'.split()"
	json_ok "[e['repository'] for e in j] == ['$REG/' + r for r in '$REPOS'.split()]"
	# one repository per page: the registry's own pages, walked to the end
	via pass
	MODELGATE_PAGE_SIZE=1 expect_exit 0 mg ls --json "$PROXY"
	json_ok "[e['name'] for e in j] == '$REPOS'.split()"
	[ "$(grep -c '^GET /v2/_catalog?\(.*&\)\?n=1[& ]' "$PROXY_LOG")" -ge 3 ] ||
		fail "the catalog was not asked for page by page: $(grep _catalog "$PROXY_LOG")"
	proxy_stop
	# a name without a port or a slash is still a repository of the store
	expect_exit 0 mg ls --json localhost.example
	json_ok 'j == []'
}

t_catalog_refused_exit_2() {
	via nocatalog
	expect_exit 2 mg ls "$PROXY"
	expect_error "registry '$PROXY' does not offer its catalog" "404" "modelgate ls $PROXY/REPO"
	expect_exit 2 mg ls --json "$PROXY"
	expect_error "does not offer its catalog"
	# its repositories are still listed by name
	expect_exit 0 mg ls --json "$PROXY/team/many"
	every_tag_once "$PROXY"
	proxy_stop
}

t_bad_page_size_is_exit_2() {
	MODELGATE_PAGE_SIZE=0 expect_exit 2 mg ls "$REG/team/many"
	expect_error "MODELGATE_PAGE_SIZE='0'"
	MODELGATE_CHUNK_SIZE=1MiB expect_exit 2 mg ls "$REG"
	expect_error "MODELGATE_CHUNK_SIZE='1MiB'"
}

check tag_list_walked_page_by_page t_tag_list_walked_page_by_page
check tag_list_that_fills_its_pages_exactly t_tag_list_that_fills_its_pages_exactly
check registry_that_ignores_n_and_last t_registry_that_ignores_n_and_last
check catalog_lists_repositories t_catalog_lists_repositories
check catalog_refused_exit_2 t_catalog_refused_exit_2
check bad_page_size_is_exit_2 t_bad_page_size_is_exit_2
finish
