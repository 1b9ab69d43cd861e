package revision

import "context"

// Mux is a Source that hands each location to the Source registered for its
// type:
//
//	src := revision.Mux{
//		revision.LocationS3:             s3src,
//		revision.LocationAppSpecContent: revision.ContentSource{},
//		revision.LocationLocal:          local,
//	}
//
// A nil or empty Mux serves nothing. A Mux is safe for concurrent use as
// long as it is not modified while in use.
type Mux map[LocationType]Source

// Open calls Open of the Source registered for loc.Type. With none (or a
// nil one) registered it returns an error wrapping ErrUnsupportedLocation
// that names the type and the types the Mux serves.
func (m Mux) Open(ctx context.Context, loc Location) (*Bundle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	src := m[loc.Type]
	if src == nil {
		var served []LocationType
		for _, t := range loc.Type.Values() {
			if m[t] != nil {
				served = append(served, t)
			}
		}
		return nil, unsupportedType("Mux", loc.Type, served...)
	}
	return src.Open(ctx, loc)
}
