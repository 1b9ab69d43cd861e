package revision

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/fleetdeploy/fleetdeploy/config"
)

// MaxAppSpecSize is the largest AppSpec file FindAppSpec and ReadAppSpec
// read (1 MiB).
const MaxAppSpecSize = 1 << 20

// AppSpecNames returns the file names FindAppSpec looks for on platform, in
// lookup order: appspec.yaml then appspec.yml (the CodeDeploy agent's order,
// command_executor.rb in aws/aws-codedeploy-agent), and for Lambda and ECS
// also appspec.json.
func AppSpecNames(platform config.ComputePlatform) []string {
	names := []string{"appspec.yaml", "appspec.yml"}
	if platform == config.Lambda || platform == config.ECS {
		names = append(names, "appspec.json")
	}
	return names
}

// FindAppSpec finds the AppSpec at the root of the unpacked bundle fsys (for
// example os.DirFS of the directory Unpack filled) and returns its name in
// fsys and its content, to pass to [ParseAppSpecFile]. It takes the first of
// [AppSpecNames] that exists. It does not look into subdirectories: Unpack
// has already made a single nested AppSpec's directory the root, as the
// agent does.
//
// Errors: [ErrAppSpecNotFound] (wrapped) when there is no AppSpec;
// [ErrInvalidAppSpec] (wrapped) when the name is a directory;
// [ErrLimitExceeded] (wrapped) when the file is larger than
// [MaxAppSpecSize]; otherwise the error of fsys, wrapped.
func FindAppSpec(fsys fs.FS, platform config.ComputePlatform) (name string, data []byte, err error) {
	names := AppSpecNames(platform)
	name, err = findAppSpecIn(fsys, names)
	if err != nil {
		if errors.Is(err, ErrAppSpecNotFound) {
			return "", nil, fmt.Errorf("%w: looked for %s at the bundle root", ErrAppSpecNotFound, strings.Join(names, ", "))
		}
		return "", nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return "", nil, fmt.Errorf("revision: opening %s: %w", name, err)
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, MaxAppSpecSize+1))
	if err != nil {
		return "", nil, fmt.Errorf("revision: reading %s: %w", name, err)
	}
	if len(data) > MaxAppSpecSize {
		return "", nil, fmt.Errorf("revision: %s is larger than %d bytes: %w", name, MaxAppSpecSize, ErrLimitExceeded)
	}
	return name, data, nil
}

// findAppSpecIn returns the first of names present at the root of fsys.
func findAppSpecIn(fsys fs.FS, names []string) (string, error) {
	for _, n := range names {
		info, err := fs.Stat(fsys, n)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", fmt.Errorf("revision: looking for %s: %w", n, err)
		case info.IsDir():
			return "", fmt.Errorf("%w: %s is a directory", ErrInvalidAppSpec, n)
		}
		return n, nil
	}
	return "", ErrAppSpecNotFound
}
