# Shared by the tools/*.sh scripts: the paths every step agrees on. Sourced, not run.
# Defaults match the Makefile so a script can also be run on its own.
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${CACHE_DIR:-$HOME/.cache/group_therapy}"
ODOO_PATH="${ODOO_PATH:-$CACHE_DIR/odoo-19.0}"
ODOO_REPO_URL="${ODOO_REPO_URL:-https://github.com/odoo/odoo.git}"
ODOO_BRANCH="${ODOO_BRANCH:-19.0}"
VENV="${VENV:-$CACHE_DIR/venv}"
PYTHON="${PYTHON:-python3}"
DEMO_DB="${DEMO_DB:-group_therapy_demo}"
TEST_DB="${TEST_DB:-group_therapy_test}"
HTTP_PORT="${HTTP_PORT:-8069}"
BUILD_DIR="${BUILD_DIR:-$REPO_DIR/.build}"
DB_HOST="${DB_HOST:-}"
DB_PORT="${DB_PORT:-}"
DB_USER="${DB_USER:-}"

ADDONS_DIR="$BUILD_DIR/addons"
ODOO_CONF="$BUILD_DIR/odoo.conf"
VPY="$VENV/bin/python"

# One Odoo on sys.path, never two: Odoo 19's namespace package would merge them silently.
export PYTHONPATH="$ODOO_PATH"
export PGHOST="$DB_HOST" PGPORT="$DB_PORT"
[ -n "$DB_USER" ] && export PGUSER="$DB_USER"
[ -z "$PGHOST" ] && unset PGHOST
[ -z "$PGPORT" ] && unset PGPORT

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# Installs Debian packages (as root), or stops saying the apt-get line to run.
install_debian_packages() {  # why package...
    local why=$1
    shift
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "Installing Debian's $* for $why"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@") >/dev/null \
            || die "Could not install $* with apt-get."
    else
        die "$why need $*: sudo apt-get install $*"
    fi
}

# Installs a Debian package when its command is missing (as root), or says how to.
need_debian_package() {  # command package why
    command -v "$1" >/dev/null || install_debian_packages "$3" "$2"
}

# The typefaces of Odoo's reports, installed as system fonts (README, "PDFs with a text layer"):
# Debian's wkhtmltopdf draws the web fonts Odoo serves as outlines, a PDF without text; the
# addon's report styles use these installed fonts instead, which it embeds as real text.
REPORT_FONT_PACKAGES=("Lato=fonts-lato" "Roboto=fonts-roboto-unhinted" "Open Sans=fonts-open-sans")
need_report_fonts() {  # why
    local missing=() font
    for font in "${REPORT_FONT_PACKAGES[@]}"; do
        fc-list -q "${font%%=*}" 2>/dev/null || missing+=("${font#*=}")
    done
    [ ${#missing[@]} = 0 ] || install_debian_packages "$1" "${missing[@]}"
}

# N free TCP ports on 127.0.0.1, space-separated (the kernel picks them: no fixed port collides
# with another server on the machine).
free_ports() {  # count
    "$VPY" -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for sock in socks:
    sock.bind(("127.0.0.1", 0))
print(*(sock.getsockname()[1] for sock in socks))' "$1"
}
