# The layering check of make check (mk/check_layers.sh), on a copy of the
# tree's modules: it passes on the tree as it is, and fails on an include
# that goes upward or sideways, naming the file, the line and the include,
# and on a network library's header outside its one file of net/.
. "$(dirname "$0")/lib.sh"

TREE=$TEST_TMP/tree
mkdir -p "$TREE/mk"
cp "$MG_SRCDIR/mk/check_layers.sh" "$TREE/mk/"
for m in util net formats registry runners validator pipelines cli; do
	cp -r "$MG_SRCDIR/$m" "$TREE/$m"
done

# a copy of the tree with line 2 of FILE replaced by an include of INC
with_include() { # name file inc
	rm -rf "$TEST_TMP/$1"
	cp -r "$TREE" "$TEST_TMP/$1"
	sed -i "2s|.*|#include \"$3\"|" "$TEST_TMP/$1/$2"
}

t_tree_passes() {
	must "$TREE/mk/check_layers.sh"
	expect_stderr_empty
}

t_upward_include_fails() {
	with_include up util/fs.c cli/cli.h
	expect_exit 1 "$TEST_TMP/up/mk/check_layers.sh"
	expect_stderr_contains 'util/fs.c:2: #include "cli/cli.h": util may include no other module'
}

t_runners_may_not_include_registry() {
	with_include reg runners/target.c registry/registry.h
	expect_exit 1 "$TEST_TMP/reg/mk/check_layers.sh"
	expect_stderr_contains 'runners/target.c:2: #include "registry/registry.h": runners may include only util formats'
}

t_sideways_include_fails() {
	with_include side net/web.c formats/tensor.h
	expect_exit 1 "$TEST_TMP/side/mk/check_layers.sh"
	expect_stderr_contains 'net/web.c:2: #include "formats/tensor.h"'
}

t_agent_may_include_runners_not_registry() {
	with_include agent runners/agent/agent.c runners/protocol.h
	must "$TEST_TMP/agent/mk/check_layers.sh"
	with_include agent2 runners/agent/agent.c registry/registry.h
	expect_exit 1 "$TEST_TMP/agent2/mk/check_layers.sh"
	expect_stderr_contains 'runners/agent/agent.c:2: #include "registry/registry.h"'
}

t_network_headers_stay_in_net() {
	with_include curl cli/main.c util/util.h
	sed -i '2s|.*|#include <mosquitto.h>|' "$TEST_TMP/curl/cli/main.c"
	expect_exit 1 "$TEST_TMP/curl/mk/check_layers.sh"
	expect_stderr_contains 'cli/main.c:2: #include <mosquitto.h>: only net/mqtt.c may include it'
}

check tree_passes t_tree_passes
check upward_include_fails t_upward_include_fails
check runners_may_not_include_registry t_runners_may_not_include_registry
check sideways_include_fails t_sideways_include_fails
check agent_may_include_runners_not_registry t_agent_may_include_runners_not_registry
check network_headers_stay_in_net t_network_headers_stay_in_net
finish
