package store

import "io/fs"

// migrationsFS is the folder of SQL migrations, rooted so goose sees bare file names.
func migrationsFS() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}
