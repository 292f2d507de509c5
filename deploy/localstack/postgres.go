package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"handoff/store"
)

// debianPostgresRoot holds one folder per installed PostgreSQL major
// version on Debian and Ubuntu, each with its server binaries in bin/.
const debianPostgresRoot = "/usr/lib/postgresql"

// errNoPostgres reports that no PostgreSQL server binaries are installed.
var errNoPostgres = errors.New("no PostgreSQL server binaries")

// postgresPart is the read model's database: the server DATABASE_URL names
// when it answers, else a private cluster under .dev/postgres.
type postgresPart struct {
	url    string
	conn   *pgx.ConnConfig
	layout layout
	logger *slog.Logger
}

func newPostgresPart(databaseURL string, l layout, logger *slog.Logger) (*postgresPart, error) {
	conn, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message can quote the password.
		return nil, errors.New("DATABASE_URL is not a valid Postgres connection string")
	}
	return &postgresPart{url: databaseURL, conn: conn, layout: l, logger: logger}, nil
}

func (p *postgresPart) info() partInfo { return postgresInfo }

func (p *postgresPart) address() string {
	return net.JoinHostPort(p.conn.Host, strconv.Itoa(int(p.conn.Port)))
}

// maintenance is DATABASE_URL pointed at the `postgres` database, which
// every cluster has, so a probe works before Handoff's database exists.
func (p *postgresPart) maintenance() *pgx.ConnConfig {
	c := p.conn.Copy()
	c.Database = "postgres"
	c.ConnectTimeout = 3 * time.Second
	return c
}

func (p *postgresPart) probe(ctx context.Context) error {
	if !strings.HasPrefix(p.conn.Host, "/") {
		if err := tcpAnswers(ctx, p.address()); err != nil {
			return err
		}
	}
	conn, err := pgx.ConnectConfig(ctx, p.maintenance())
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

func (p *postgresPart) ready(ctx context.Context) error { return p.probe(ctx) }

func (p *postgresPart) startable() error {
	if strings.HasPrefix(p.conn.Host, "/") {
		return fmt.Errorf("DATABASE_URL names the Unix socket folder %s, so no cluster is started here", p.conn.Host)
	}
	if !isLoopback(p.conn.Host) {
		return fmt.Errorf("DATABASE_URL names %s, not a loopback address, so no cluster is started here", p.address())
	}
	return nil
}

func (p *postgresPart) dataDir() string   { return p.layout.dev("postgres", "data") }
func (p *postgresPart) socketDir() string { return p.layout.dev("postgres", "socket") }

func (p *postgresPart) start(ctx context.Context, l launcher) (*child, error) {
	data := p.dataDir()
	version := clusterVersion(data)
	binDir, err := postgresBinDir(debianPostgresRoot, version)
	if errors.Is(err, errNoPostgres) {
		if err = p.install(ctx, l); err == nil {
			binDir, err = postgresBinDir(debianPostgresRoot, version)
		}
	}
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	if err := p.prepareDirs(cred); err != nil {
		return nil, err
	}
	if version == "" {
		p.logger.Info("postgres: creating a private cluster", "data", p.layout.rel(data), "binaries", binDir)
		err := l.run(ctx, command{
			part: postgresInfo,
			path: filepath.Join(binDir, "initdb"),
			// The C locale exists everywhere; a LANG naming an uninstalled
			// locale would make initdb fail.
			args:       []string{"-D", data, "--auth=trust", "-U", p.user(), "-E", "UTF8", "--locale=C"},
			dir:        p.layout.dev("postgres"),
			credential: cred,
		})
		if err != nil {
			return nil, err
		}
	}
	return l.start(command{
		part: postgresInfo,
		path: filepath.Join(binDir, "postgres"),
		args: []string{
			"-D", data,
			"-h", bindHost(p.conn.Host),
			"-p", strconv.Itoa(int(p.conn.Port)),
			"-k", p.socketDir(),
		},
		dir:        p.layout.dev("postgres"),
		credential: cred,
	})
}

// user is the superuser of a private cluster: DATABASE_URL's user, so the
// URL works unchanged against it.
func (p *postgresPart) user() string {
	if p.conn.User == "" {
		return "postgres"
	}
	return p.conn.User
}

// install adds Debian's postgresql package, which only root can do.
func (p *postgresPart) install(ctx context.Context, l launcher) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w under %s, and only root can install them: install the postgresql package, or set DATABASE_URL to a running server",
			errNoPostgres, debianPostgresRoot)
	}
	p.logger.Info("postgres: installing PostgreSQL with apt-get", "log", p.layout.rel(p.layout.logFile("postgres")))
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	if err := l.run(ctx, command{part: postgresInfo, path: "apt-get", args: []string{"update"}, env: env}); err != nil {
		return fmt.Errorf("install PostgreSQL: %w", err)
	}
	if err := l.run(ctx, command{part: postgresInfo, path: "apt-get", args: []string{"install", "-y", "postgresql"}, env: env}); err != nil {
		return fmt.Errorf("install PostgreSQL: %w", err)
	}
	return nil
}

// prepareDirs makes the data and socket folders, owned by the user the
// server runs as.
func (p *postgresPart) prepareDirs(cred *syscall.Credential) error {
	if err := os.MkdirAll(p.layout.dev("postgres"), 0o755); err != nil {
		return fmt.Errorf("create state folder: %w", err)
	}
	// Postgres insists its data folder is private to its owner.
	for dir, mode := range map[string]fs.FileMode{p.dataDir(): 0o700, p.socketDir(): 0o755} {
		if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create %s: %w", p.layout.rel(dir), err)
		}
		if cred != nil {
			if err := chownTree(dir, int(cred.Uid), int(cred.Gid)); err != nil {
				return err
			}
		}
	}
	if cred != nil {
		return canTraverse(p.layout.dev("postgres"), cred.Uid, cred.Gid)
	}
	return nil
}

func (p *postgresPart) setup(ctx context.Context) error {
	if err := p.ensureDatabase(ctx); err != nil {
		return err
	}
	s, err := store.Open(ctx, p.url)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Migrate(ctx, p.logger)
}

// ensureDatabase creates DATABASE_URL's database when the server lacks it.
func (p *postgresPart) ensureDatabase(ctx context.Context) error {
	created, err := createDatabase(ctx, p.maintenance(), p.conn.Database)
	if created {
		p.logger.Info("postgres: created database", "name", p.conn.Database)
	}
	return err
}

// createDatabase creates database name on the server maintenance reaches
// (connected to its `postgres` database) when it lacks it, and answers
// whether this call created it.
func createDatabase(ctx context.Context, maintenance *pgx.ConnConfig, name string) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, maintenance)
	if err != nil {
		return false, fmt.Errorf("connect to the postgres database: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("look for database %s: %w", name, err)
	}
	if exists {
		return false, nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: a concurrent run made it
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create database %s: %w", name, err)
	}
	return true, nil
}

func (p *postgresPart) endpoints() [][2]string {
	return [][2]string{{"Postgres", maskDatabaseURL(p.url)}}
}

// maskDatabaseURL hides any password in a Postgres URL.
func maskDatabaseURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "(DATABASE_URL is set; not shown as it is not a URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// clusterVersion answers the major version a cluster in data was made
// with, or "" when there is no cluster there yet.
func clusterVersion(data string) string {
	b, err := os.ReadFile(filepath.Join(data, "PG_VERSION"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// postgresBinDir picks the folder of server binaries under base (one
// <version>/bin folder per major version, as Debian installs them): the
// one of version want when want is set (an existing cluster's version),
// else the highest version that has both postgres and initdb.
func postgresBinDir(base, want string) (string, error) {
	entries, err := os.ReadDir(base)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("list %s: %w", base, err)
	}
	var best string
	var bestVersion []int
	for _, e := range entries {
		v, ok := parseVersion(e.Name())
		if !ok {
			continue
		}
		dir := filepath.Join(base, e.Name(), "bin")
		if !isExecutable(filepath.Join(dir, "postgres")) || !isExecutable(filepath.Join(dir, "initdb")) {
			continue
		}
		if want != "" {
			if e.Name() == want {
				return dir, nil
			}
			continue
		}
		if best == "" || slices.Compare(v, bestVersion) > 0 {
			best, bestVersion = dir, v
		}
	}
	if want != "" {
		return "", fmt.Errorf("the private cluster was made by PostgreSQL %s, whose server binaries are not under %s: install postgresql-%s, or delete .dev/postgres to start afresh",
			want, base, want)
	}
	if best == "" {
		return "", fmt.Errorf("%w under %s", errNoPostgres, base)
	}
	return best, nil
}

// parseVersion reads a version folder name such as "15" or "9.6".
func parseVersion(s string) ([]int, bool) {
	var v []int
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// postgresCredential answers who a private cluster runs as: nil (this
// user) unless we are root, which initdb and postgres refuse; then the
// postgres system user that Debian's packages create.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, which Postgres refuses, and no postgres system user to run it as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("postgres system user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// chownTree gives dir and everything in it to uid:gid, when it is not
// theirs already (a cluster made before by another user).
func chownTree(dir string, uid, gid int) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok && int(s.Uid) == uid && int(s.Gid) == gid {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, uid, gid); err != nil {
			return fmt.Errorf("give %s to the postgres user: %w", path, err)
		}
		return nil
	})
}

// canTraverse checks that uid:gid (with no supplementary groups, as the
// child gets none) may enter dir and every folder above it.
func canTraverse(dir string, uid, gid uint32) error {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		s, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		m := st.Mode().Perm()
		if !(s.Uid == uid && m&0o100 != 0) && !(s.Gid == gid && m&0o010 != 0) && m&0o001 == 0 {
			return fmt.Errorf("the postgres system user cannot enter %s (mode %v, owner uid %d): allow it (chmod o+x), or set DATABASE_URL to a running server",
				d, m, s.Uid)
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}
