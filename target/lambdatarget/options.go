package lambdatarget

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// AliasAPI is the part of the Lambda client (*lambda.Client) a Shifter
// calls: it reads and updates the alias and checks that the versions
// exist.
type AliasAPI interface {
	GetAlias(ctx context.Context, in *lambda.GetAliasInput, optFns ...func(*lambda.Options)) (*lambda.GetAliasOutput, error)
	UpdateAlias(ctx context.Context, in *lambda.UpdateAliasInput, optFns ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error)
	GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
}

// InvokeAPI is the part of the Lambda client (*lambda.Client) a
// HookInvoker calls.
type InvokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var (
	_ AliasAPI  = (*lambda.Client)(nil)
	_ InvokeAPI = (*lambda.Client)(nil)
)

// Options are the optional settings of a Shifter or a HookInvoker. The
// zero value of each field means its default.
type Options struct {
	// Logger receives what the package does: each alias update and hook
	// invocation (Info), the checks before them (Debug). Default:
	// discarded.
	Logger *slog.Logger
}

// resolve applies optFns to a zero Options and fills the defaults.
func resolve(optFns []func(*Options)) Options {
	var o Options
	for _, fn := range optFns {
		if fn != nil {
			fn(&o)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
