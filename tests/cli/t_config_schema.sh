# docs/modelgate.schema.json, the JSON Schema editors validate modelgate.json
# with: it is a valid draft 2020-12 schema, every modelgate.json in the
# repository (examples/, and the README's) validates against it, and it
# rejects what the config reader rejects: a misspelled key anywhere, a key of
# another kind of gate. The reader refuses the same keys, exit 2, naming the
# key by its JSON path and the key it is closest to.
. "$(dirname "$0")/lib.sh"
need_py jsonschema python3-jsonschema

SCHEMA=$MG_SRCDIR/docs/modelgate.schema.json
in_example_copy

# validate FILE: exit 0 when FILE validates, 1 (with the first error) when not
validate() {
	"$PY" - "$SCHEMA" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
if err:
    print(err.message)
    sys.exit(1)
PY
}

# misspelled OUT EXPR: a copy of modelgate.json changed by the Python statement EXPR on c
misspelled() {
	"$PY" -c 'import json, sys
c = json.load(open("modelgate.json"))
exec(sys.argv[2])
json.dump(c, open(sys.argv[1], "w"), indent=1)' "$1" "$2" || fail "cannot write '$1'"
}

every_config_in_the_repository_validates() {
	local f n=0
	for f in $(cd "$MG_SRCDIR" && git ls-files '*modelgate*.json' | grep -v '^docs/'); do
		validate "$MG_SRCDIR/$f" >"$IO/v.out" || fail "'$f' does not validate: $(cat "$IO/v.out")"
		expect_exit 0 mg check-config -c "$MG_SRCDIR/$f"
		n=$((n + 1))
	done
	[ "$n" -ge 2 ] || fail "only $n modelgate.json files found"
	# what init writes, with every option
	must mg init model_int8.onnx --baseline model.onnx --dataset dataset --target board=ssh://pi@b -o init.json
	validate init.json >"$IO/v.out" || fail "init's config does not validate: $(cat "$IO/v.out")"
	# the README's, as shown
	"$MG_SRCDIR/tests/readme_blocks.sh" "$MG_SRCDIR/README.md" "$TEST_TMP/blocks" >"$TEST_TMP/blocks.list" ||
		fail "cannot list the README's blocks"
	for f in $(awk '$3 == "json" { print $5 }' "$TEST_TMP/blocks.list" | xargs grep -l '"gates"'); do
		validate "$f" >"$IO/v.out" || fail "README.md's modelgate.json does not validate: $(cat "$IO/v.out")"
	done
}

# Each misspelling: the schema rejects it, and so does the reader, naming
# the key's path and the one it is closest to.
misspelled_keys_are_refused_by_both() {
	local spec path near
	while IFS='|' read -r spec path near; do
		misspelled bad.json "$spec"
		! validate bad.json >"$IO/v.out" || fail "the schema accepts: $spec"
		expect_exit 2 mg check-config -c bad.json
		expect_error "bad.json: $path" "did you mean '$near'"
		expect_exit 2 mg gate -c bad.json --report r.json
		expect_error "bad.json: $path" "did you mean '$near'"
		expect_no_file r.json
	done <<'LIST'
c["basline"] = c.pop("baseline")|basline|baseline
c["gate"] = c.pop("gates")|gate|gates
c["dataset"]["label"] = c["dataset"].pop("labels")|dataset.label|labels
c["targets"]["host"] = {"spec": "local", "thread": 2}|targets.host.thread|threads
c["gates"][0]["max_dorp"] = c["gates"][0].pop("max_drop")|gates[0].max_dorp|max_drop
c["gates"][3]["max_byte"] = 1000|gates[3].max_byte|max_bytes
c["gates"][1]["kind"] = "fidelty"|gates[1].kind: unknown kind 'fidelty'|fidelity
c["deploy"] = {"triggers": [{"kind": "webhook", "url": "https://hooks.example.com/d", "secret_envv": "S"}]}|deploy.triggers[0].secret_envv: unknown key|secret_env
LIST
	# a key of another kind of gate: refused, without a guess
	misspelled bad.json 'c["gates"][3]["max_ms"] = 5'
	! validate bad.json >"$IO/v.out" || fail "the schema accepts max_ms in a size gate"
	expect_exit 2 mg check-config -c bad.json
	expect_error "bad.json: gates[3].max_ms: not a setting of a size gate"
	expect_stderr_not_contains "did you mean"
	# far from every key: the keys expected are listed instead
	misspelled bad.json 'c["zzzzzzzz"] = 1'
	! validate bad.json >"$IO/v.out" || fail "the schema accepts an unknown key"
	expect_exit 2 mg check-config -c bad.json
	expect_error "bad.json: zzzzzzzz: unknown key (expected model, baseline"
}

comments_and_the_schema_key_are_allowed() {
	misspelled ok.json 'c["$schema"] = "/usr/share/modelgate/modelgate.schema.json"; c["// note"] = 1; c["gates"][0]["// why"] = [1]; c["dataset"]["//"] = "x"'
	validate ok.json >"$IO/v.out" || fail "the schema refuses comments or \$schema: $(cat "$IO/v.out")"
	expect_exit 0 mg check-config -c ok.json
	misspelled bad.json 'c["$schema"] = 1'
	! validate bad.json >"$IO/v.out" || fail "the schema accepts a \$schema that is no string"
	expect_exit 2 mg check-config -c bad.json
	expect_error "bad.json: \$schema: expected a string"
}

check every_config_in_the_repository_validates every_config_in_the_repository_validates
check misspelled_keys_are_refused_by_both misspelled_keys_are_refused_by_both
check comments_and_the_schema_key_are_allowed comments_and_the_schema_key_are_allowed
finish
