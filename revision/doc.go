// Package revision is about what a deployment deploys: where a revision
// lives (Location), how it is identified, how it is fetched (Source), how
// its bundle is unpacked safely (Unpack), and its AppSpec file.
//
// The package does no network I/O. Sources for S3 and GitHub live in
// adapter packages, revision/s3revision and revision/githubrevision; this
// package ships LocalSource (bundles on this
// machine), ContentSource (inline AppSpec content) and Mux, and package
// revisiontest ships an in-memory Source, bundle builders and a
// conformance suite.
//
// # Revision locations
//
// A Location is CodeDeploy's RevisionLocation (API Reference): a type — S3,
// GitHub, AppSpecContent, or the fleetdeploy extension Local — and the one
// field of that type. Field names and enum values are spelled as
// CodeDeploy spells them, so a location serializes as the API's JSON.
// Location.Validate reports every broken rule at once, naming the field
// ("s3Location.bucket: must not be empty"), as a *multierror.Error
// (github.com/hashicorp/go-multierror) with one *LocationProblem per broken
// rule, that matches ErrInvalidLocation.
//
// # Identity
//
// Location.Key is the revision's identity, used to compare a target's
// revision with the group's. CodeDeploy does not say precisely when two
// revisions are the same, so the identity is fleetdeploy's decision
// (recorded in package fleetdeploy, "Where fleetdeploy decides"): S3 =
// bucket + key + version (when set) + eTag (when set, quotes ignored);
// GitHub = repository + commit (hex case ignored); AppSpecContent = the
// SHA-256 of the content; Local = path + the SHA-256 of the bundle. A
// location as the user wrote it may lack what makes it precise (an S3
// object's version and eTag, a local bundle's hash); the location a Source
// resolves when it opens the revision (Bundle.Location) has it, and is what
// deployments should record.
//
// # Sources
//
// A Source opens a Location and returns a *Bundle: the bundle's type, its
// bytes (Body) or directory (Dir), the resolved location, and the bundle
// environment variables the CodeDeploy agent gives hooks (BUNDLE_BUCKET,
// BUNDLE_KEY, BUNDLE_VERSION, BUNDLE_ETAG, BUNDLE_COMMIT, as
// command_executor.rb in aws/aws-codedeploy-agent sets them; see BundleEnv).
// The contract, documented on Source.Open, fixes which sentinel means
// what: ErrUnsupportedLocation for a type the source does not serve,
// ErrInvalidLocation, ErrRevisionNotFound, ErrChecksumMismatch, and the
// context's error when ctx is done. Mux routes each location type to its
// Source:
//
//	local, _ := revision.NewLocalSource()
//	src := revision.Mux{
//		revision.LocationS3:             s3src, // an adapter
//		revision.LocationAppSpecContent: revision.ContentSource{},
//		revision.LocationLocal:          local,
//	}
//	b, err := src.Open(ctx, loc)
//	if err != nil { ... }
//	defer b.Close()
//
// # Unpacking bundles
//
// An on-host agent calls Unpack to turn a bundle into a directory (the
// deployment archive). zip, tar and tgz archives are extracted, a bare
// YAML or JSON AppSpec is written as appspec.yaml or appspec.json, and a
// Dir bundle is copied. Lambda and ECS code that needs only the AppSpec
// text calls ReadAppSpec, which finds it without writing anything.
//
// Bundles are untrusted input. Unpack writes nothing outside its
// destination and refuses, with an *ExtractError naming the entry and the
// rule, every entry that could: absolute names, drive letters, ".."
// elements, paths through symlinks, symlinks that resolve outside the
// destination (through any chain of links), hard links to anything but an
// earlier regular file, devices and FIFOs, duplicate entries
// (ErrUnsafePath). Sizes are counted as bytes are decompressed, not taken
// from headers: more than ExtractLimits allow — by default 1 GiB in all,
// 512 MiB in one file, 100,000 entries, 128 path elements and 4096 bytes
// of path per entry — fails with ErrLimitExceeded. ctx is checked for every
// entry and every read, so cancelling an Unpack takes effect at once. A
// truncated or damaged archive fails with ErrCorruptBundle. Unpack works
// in a hidden directory beside the destination and renames it into place
// only on success, so a failed or cancelled Unpack leaves nothing behind.
//
// Where the agent's bundle root holds no AppSpec and exactly one AppSpec
// file sits one directory down, that directory becomes the bundle root and
// the other root entries are dropped (the agent's nested-AppSpec rule, in
// its command_executor.rb; it serves GitHub tarballs and macOS zips with
// __MACOSX). Unpack applies it and reports it in UnpackResult; ReadAppSpec
// looks where it leads.
//
// # AppSpec files
//
// An AppSpec says what a revision installs and which hooks run during its
// lifecycle events. ParseAppSpecFile(name, data, platform) reads one — YAML
// or JSON, one document — into an *AppSpec and checks every rule of the
// User Guide's "CodeDeploy AppSpec file reference" (and the pages of its
// sections) and of the agent's AppSpec parser
// (lib/instance_agent/plugins/codedeploy/application_specification/ in
// aws/aws-codedeploy-agent). One AppSpec type serves the three compute
// platforms: a Server AppSpec has OS, Files, FileExistsBehavior,
// Permissions and Hooks (scripts per event, see ScriptsFor); a Lambda
// AppSpec has Lambda and HookFunctions; an ECS AppSpec has ECS and
// HookFunctions (see HookFunction). HookEvents lists the events each
// platform can hook, in the order they run; the events CodeDeploy performs
// itself (DownloadBundle, Install, AllowTraffic, ...) cannot be hooked.
//
// Server keys are the lowercase keys of the CodeDeploy documentation; Lambda
// and ECS keys, and their hook event names, match without regard to case.
// Defaults are filled in: a script's timeout is one hour
// (DefaultScriptTimeout), a permission's pattern "**" and its types file and
// directory.
//
// # Compatibility with the CodeDeploy agent, and warnings
//
// A Server AppSpec that the CodeDeploy agent accepts is accepted, and means
// what it means to the agent, except where the AppSpec reference is explicit
// and the agent's reading would surprise (a relative destination, a hook for
// Install, a timeout that is not a whole number, a duplicate key, several
// YAML documents, a key such as Hooks that differs from a documented one
// only in case). Where the reference and the agent disagree — keys the agent
// ignores, runas with os: windows, the string "0.0" as version (which the
// agent refuses), script timeouts adding up to more than 3600 seconds in one
// event — the file is accepted and each disagreement is a Warning in
// AppSpec.Warnings, naming the file, line and field, what the agent does and
// what the reference says. ParseOptions.Strict turns every warning into an
// error, for linting AppSpec files in CI. ParseAppSpecFile lists every case.
//
// Every problem is reported at once. The error is a *multierror.Error
// (github.com/hashicorp/go-multierror) whose elements are *AppSpecProblem
// values carrying the file, line, field path and rule, and whose message
// has one line per problem:
//
//	revision: invalid AppSpec: 2 problems:
//	  appspec.yml:9: hooks.AfterInstall[0].timeout: must be a positive integer number of seconds
//	  appspec.yml:12: permissions[0].object: is required: the file or directory the permissions apply to
//
// It matches ErrInvalidAppSpec, as does each problem. AppSpec.Validate runs the same checks on an
// AppSpec built in Go. One rule needs the file system: a permission whose
// object turns out to be a file must keep pattern "**", no except and no
// default ACL entry; the Install step checks it with ValidateFileObjects.
// ParseACLEntry turns an acls entry into an ACLEntry for setfacl.
//
// FindAppSpec finds the AppSpec at the root of an unpacked bundle:
// appspec.yaml, then appspec.yml (the agent's order), then, for
// Lambda and ECS, appspec.json. The single-top-directory rule belongs to
// Unpack and ReadAppSpec, which strip that directory before FindAppSpec
// looks. The parser never panics; aliases are followed within a budget
// proportional to the input, so a hostile document cannot make it do
// unbounded work.
//
// # Testing
//
// Package revisiontest provides MemSource, an in-memory Source for S3,
// GitHub and Local locations with failure injection (SetError) and latency
// without a clock (Hold); Build, Zip, Tar and Tgz to make bundles —
// including hostile ones — in memory; and TestSource, the conformance
// suite every Source implementation should pass.
package revision
