package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The documents are written after the API Reference's GetDeploymentConfig
// response syntax and the AWS CLI reference's get-deployment-config
// example, not from fleetdeploy's own output.
func TestConfigDecodesCodeDeployJSON(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	tests := []struct {
		name string
		doc  string
		want Config
	}{
		{"get-deployment-config CLI example", `{
            "deploymentConfigId": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
            "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 75},
            "createTime": 1411081164.379,
            "deploymentConfigName": "ThreeQuartersHealthy"
        }`, Config{Name: "ThreeQuartersHealthy", MinimumHealthyHosts: &MinimumHealthyHosts{Type: FleetPercent, Value: 75}}},
		{"zonal", `{
            "computePlatform": "Server",
            "deploymentConfigName": "ZonalTwoAtATime",
            "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 2},
            "zonalConfig": {
                "firstZoneMonitorDurationInSeconds": 900,
                "minimumHealthyHostsPerZone": {"type": "FLEET_PERCENT", "value": 50},
                "monitorDurationInSeconds": 300
            }
        }`, Config{Name: "ZonalTwoAtATime", ComputePlatform: Server,
			MinimumHealthyHosts: &MinimumHealthyHosts{Type: HostCount, Value: 2},
			ZonalConfig: &ZonalConfig{FirstZoneMonitorDurationInSeconds: i64(900), MonitorDurationInSeconds: i64(300),
				MinimumHealthyHostsPerZone: &MinimumHealthyHosts{Type: FleetPercent, Value: 50}}}},
		{"Lambda canary", `{
            "computePlatform": "Lambda",
            "deploymentConfigName": "Canary25Percent7Minutes",
            "trafficRoutingConfig": {"timeBasedCanary": {"canaryInterval": 7, "canaryPercentage": 25}, "type": "TimeBasedCanary"}
        }`, Config{Name: "Canary25Percent7Minutes", ComputePlatform: Lambda,
			TrafficRouting: &TrafficRouting{Type: TimeBasedCanary, TimeBasedCanary: &Canary{CanaryPercentage: 25, CanaryInterval: 7}}}},
		{"ECS linear", `{
            "computePlatform": "ECS",
            "deploymentConfigName": "Linear20Every2",
            "trafficRoutingConfig": {"timeBasedLinear": {"linearInterval": 2, "linearPercentage": 20}, "type": "TimeBasedLinear"}
        }`, Config{Name: "Linear20Every2", ComputePlatform: ECS,
			TrafficRouting: &TrafficRouting{Type: TimeBasedLinear, TimeBasedLinear: &Linear{LinearPercentage: 20, LinearInterval: 2}}}},
		{"stored before the rename", `{"name": "Old", "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 1}}`,
			Config{Name: "Old", MinimumHealthyHosts: &MinimumHealthyHosts{Type: HostCount, Value: 1}}},
		{"deploymentConfigName wins over name", `{"name": "Old", "deploymentConfigName": "New"}`, Config{Name: "New"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Config
			if err := json.Unmarshal([]byte(tt.doc), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded %+v; want %+v", got, tt.want)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"deploymentConfigName":"`+tt.want.Name+`"`) || strings.Contains(string(b), `"name"`) {
				t.Errorf("Marshal = %s; want the name under deploymentConfigName", b)
			}
			var back Config
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, tt.want) {
				t.Errorf("round trip = %+v, %v; want %+v", back, err, tt.want)
			}
		})
	}
}

func TestConfigJSONErrors(t *testing.T) {
	for _, doc := range []string{`[]`, `{"deploymentConfigName": 7}`, `{"name": 7}`, `{"minimumHealthyHosts": "x"}`} {
		var c Config
		if err := json.Unmarshal([]byte(doc), &c); err == nil {
			t.Errorf("Unmarshal(%s) = nil error, decoded %+v", doc, c)
		}
	}
}
