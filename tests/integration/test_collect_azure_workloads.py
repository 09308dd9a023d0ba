"""Compute, network, SQL, Activity Log and Defender collection against the ARM replay server.

Real SDK clients over HTTPS on loopback, both lakes; then the checks over what was collected.
The pure transforms (port ranges, rule splitting, settings redaction) are tested here too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from opencwpp.assess import assess, select_checks
from opencwpp.checks import builtin_checks
from opencwpp.collect.azure.compute import REDACTED, redact_settings, transform_vm
from opencwpp.collect.azure.network import (
    SECURITY_RULES,
    parse_port_range,
    transform_security_group,
)
from opencwpp.collect.azure.sync import sync_azure
from opencwpp.collect.sync import STATUS_NOT_ASSESSED, STATUS_OK
from opencwpp.core.models import Status
from opencwpp.lake import Lake

if TYPE_CHECKING:
    from opencwpp.collect.azure.context import AzureContext
    from tests.integration.azure_fixtures import ArmReplay

pytest_plugins = ["tests.integration.azure_fixtures"]

SUB_A = "00000000-0000-0000-0000-000000000000"
SUB_B = "11111111-1111-1111-1111-111111111111"
HOSTILE = "<img src=x onerror=alert(1)>"
RG_APP = f"/subscriptions/{SUB_A}/resourceGroups/rg-app/providers"
NSG = f"{RG_APP}/Microsoft.Network/networkSecurityGroups/"
DISK = f"{RG_APP}/Microsoft.Compute/disks/"
SNAP = f"{RG_APP}/Microsoft.Compute/snapshots/"
VM = f"{RG_APP}/Microsoft.Compute/virtualMachines/"
SQL_OPEN = f"/subscriptions/{SUB_A}/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-open"
SQL_LOCKED = (
    f"/subscriptions/{SUB_A}/resourceGroups/rg-secure/providers/Microsoft.Sql/servers/sql-locked"
)
NEW_SERVICES = ("network", "compute", "sql", "monitor", "defender")
NEW_CHECKS = [
    c for c in builtin_checks() if c.meta.provider == "azure" and c.meta.service in NEW_SERVICES
]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _count(lake: Lake, table: str) -> int:
    return int(lake.query(f'SELECT count(*) AS n FROM "{table}"')[0]["n"])


def test_sync_collects_workloads_and_only_reads(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    sync_azure(lake, azure_context.subscriptions())
    assert arm.unmatched == [], "the collector asked for something the fixtures lack"
    assert {r.method for r in arm.requests} == {"GET"}
    # TDE is asked for user databases only, never for master.
    assert not [p for p in arm.paths() if "/databases/master/" in p]

    rules = lake.query(
        "SELECT nsg_name, rule_name, is_default, source_prefix, destination_port_range, "
        "from_port, to_port, priority, description FROM cwpp_azure_network_security_rules"
    )
    by_rule: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rules:
        by_rule.setdefault((r["nsg_name"], r["rule_name"]), []).append(r)
    # A prefix list is one row per prefix; a port-range list one row per range.
    assert sorted(r["source_prefix"] for r in by_rule[("nsg-web", "allow-mysql")]) == [
        "0.0.0.0/0",
        "10.0.0.0/8",
    ]
    ranges = {(r["from_port"], r["to_port"]) for r in by_rule[("nsg-web", "allow-sql-range")]}
    assert ranges == {(1400, 1500), (443, 443)}
    assert by_rule[("nsg-legacy", "allow-any")][0]["from_port"] == 0
    assert by_rule[("nsg-legacy", "allow-any")][0]["to_port"] == 65535
    assert by_rule[("nsg-web", "DenyAllInBound")][0]["is_default"] is True
    assert by_rule[("nsg-web", "allow-ssh")][0]["description"] == f"ssh for {HOSTILE}"
    assert _count(lake, "azure_network_security_groups") == 3

    configs = lake.query(
        "SELECT c.name, c.properties, c._cq_parent_id, n._cq_id AS nic_cq_id "
        "FROM azure_network_interface_ip_configurations AS c "
        "JOIN azure_network_interfaces AS n ON n._cq_id = c._cq_parent_id"
    )
    assert len(configs) == 3

    disks = {r["name"]: r for r in lake.query("SELECT * FROM azure_compute_disks")}
    assert set(disks) == {"disk-os-web", "disk-os-db", "disk-orphan", "disk-spare"}
    assert _json(disks["disk-os-web"]["tags"]) == {"owner": HOSTILE}
    assert disks["disk-os-web"]["managed_by"].endswith("/virtualMachines/vm-web")
    assert list(disks["disk-os-web"]["zones"]) == ["1"]
    assert _count(lake, "cwpp_azure_compute_snapshots") == 2
    assert _count(lake, "azure_compute_virtual_machines") == 2

    # Extension settings reach the lake redacted: no password, no SAS signature.
    extensions = lake.query("SELECT name, properties FROM azure_compute_virtual_machine_extensions")
    assert {e["name"] for e in extensions} == {"CustomScript", "MDE.Linux"}
    dump = json.dumps(extensions, default=str)
    assert "hunter2" not in dump and "sig=FAKE" not in dump
    script = next(_json(e["properties"]) for e in extensions if e["name"] == "CustomScript")
    assert script["settings"]["commandToExecute"] == REDACTED
    assert script["settings"]["timestamp"] == 1

    assert _count(lake, "azure_sql_servers") == 2
    assert _count(lake, "azure_sql_server_databases") == 4
    assert _count(lake, "azure_sql_transparent_data_encryptions") == 2
    assert _count(lake, "azure_sql_server_firewall_rules") == 3
    assert _count(lake, "azure_sql_server_admins") == 1
    assert _count(lake, "azure_sql_server_encryption_protectors") == 2
    assert _count(lake, "azure_sql_server_blob_auditing_policies") == 2

    categories = lake.query(
        "SELECT category, enabled FROM cwpp_azure_monitor_diagnostic_log_categories "
        "WHERE subscription_id = ?",
        (SUB_A,),
    )
    assert len(categories) == 8
    assert {c["category"] for c in categories if not c["enabled"]} == {"Autoscale"}
    assert _count(lake, "azure_security_pricings") == 11

    scopes = {
        (r["account_id"], r["table_name"]): (r["status"], r["reason"])
        for r in lake.query("SELECT account_id, table_name, status, reason FROM cwpp_sync_scopes")
    }
    status, reason = scopes[(SUB_B, "azure_security_pricings")]
    assert status == STATUS_NOT_ASSESSED and reason.startswith("AuthorizationFailed (HTTP 403)")
    assert scopes[(SUB_B, "azure_network_security_groups")] == (STATUS_OK, "")
    assert scopes[(SUB_A, "cwpp_azure_monitor_diagnostic_log_categories")] == (STATUS_OK, "")


def test_checks_judge_the_replayed_workloads(azure_context: AzureContext, lake: Lake) -> None:
    sync_azure(lake, azure_context.subscriptions())
    result = assess(lake, select_checks([c.id for c in NEW_CHECKS]))
    verdict = {(f.check_id, f.resource.uid): f for f in result.findings}

    def status(check_id: str, uid: str) -> Status:
        return verdict[(check_id, uid)].status

    web, tight, legacy = NSG + "nsg-web", NSG + "nsg-tight", NSG + "nsg-legacy"
    expected_web = {
        "network_nsg_ssh_open_to_internet": Status.FAIL,
        "network_nsg_rdp_open_to_internet": Status.FAIL,
        "network_nsg_mssql_open_to_internet": Status.FAIL,
        "network_nsg_mysql_open_to_internet": Status.FAIL,
        "network_nsg_postgresql_open_to_internet": Status.PASS,
        "network_nsg_oracle_open_to_internet": Status.PASS,
        "network_nsg_mongodb_open_to_internet": Status.PASS,
        "network_nsg_redis_open_to_internet": Status.PASS,
        "network_nsg_all_ports_open_to_internet": Status.PASS,
    }
    for check_id, want in expected_web.items():
        assert status(check_id, web) is want, check_id
        # A Deny evaluated first, private sources and outbound rules keep nsg-tight closed.
        assert status(check_id, tight) is Status.PASS, check_id
        assert status(check_id, legacy) is Status.FAIL, check_id
    ssh = verdict[("network_nsg_ssh_open_to_internet", web)]
    assert "allow-ssh" in ssh.status_reason and ssh.resource.tags == {"team": HOSTILE}
    assert ssh.compliance == {"cis-azure-2.0": ["6.2"]}

    assert status("compute_disk_no_customer_managed_key", DISK + "disk-os-web") is Status.FAIL
    assert status("compute_disk_no_customer_managed_key", DISK + "disk-os-db") is Status.PASS
    spare = DISK + "disk-spare"
    assert status("compute_disk_unattached_no_customer_managed_key", spare) is Status.PASS
    assert status("compute_disk_unattached", spare) is Status.FAIL
    assert status("compute_disk_active_sas", DISK + "disk-orphan") is Status.FAIL
    assert status("compute_disk_network_access_allow_all", DISK + "disk-orphan") is Status.FAIL
    assert status("compute_disk_network_access_allow_all", spare) is Status.PASS
    assert status("compute_snapshot_network_access_allow_all", SNAP + "snap-open") is Status.FAIL
    assert status("compute_snapshot_network_access_allow_all", SNAP + "snap-locked") is (
        Status.PASS
    )
    assert status("compute_snapshot_no_customer_managed_key", SNAP + "snap-open") is Status.FAIL
    for check_id in (
        "compute_vm_no_managed_identity",
        "compute_vm_encryption_at_host_disabled",
        "compute_vm_public_ip_attached",
        "compute_vm_no_endpoint_protection",
    ):
        assert status(check_id, VM + "vm-web") is Status.FAIL, check_id
        assert status(check_id, VM + "vm-db") is Status.PASS, check_id
    assert status("compute_vm_unmanaged_os_disk", VM + "vm-web") is Status.PASS

    for check_id in (
        "sql_server_auditing_disabled",
        "sql_server_auditing_retention_below_90_days",
        "sql_server_firewall_open_to_internet",
        "sql_server_firewall_allows_all_azure_services",
        "sql_server_public_network_access_enabled",
        "sql_server_minimum_tls_below_1_2",
        "sql_server_entra_admin_not_set",
        "sql_server_tde_protector_service_managed",
    ):
        assert status(check_id, SQL_OPEN) is Status.FAIL, check_id
        assert status(check_id, SQL_LOCKED) is Status.PASS, check_id
    assert status("sql_database_tde_disabled", SQL_OPEN + "/databases/appdb") is Status.FAIL
    assert status("sql_database_tde_disabled", SQL_LOCKED + "/databases/securedb") is Status.PASS
    assert ("sql_database_tde_disabled", SQL_OPEN + "/databases/master") not in verdict

    sub_a, sub_b = f"/subscriptions/{SUB_A}", f"/subscriptions/{SUB_B}"
    for check_id in (
        "monitor_activity_log_not_exported",
        "monitor_activity_log_categories_not_captured",
    ):
        assert status(check_id, sub_a) is Status.PASS, check_id
        assert status(check_id, sub_b) is Status.FAIL, check_id

    pricing = f"{sub_a}/providers/Microsoft.Security/pricings/"
    assert status("defender_plan_servers_off", pricing + "VirtualMachines") is Status.PASS
    assert status("defender_plan_key_vaults_off", pricing + "KeyVaults") is Status.FAIL
    assert status("defender_plan_sql_databases_off", pricing + "SqlServers") is Status.FAIL
    # Denied in the second subscription: NOT_ASSESSED with the reason, never PASS.
    denied = [
        f
        for f in result.findings
        if f.check_id == "defender_plan_storage_off" and f.resource.account_id == SUB_B
    ]
    assert denied and {f.status for f in denied} == {Status.NOT_ASSESSED}


def test_port_ranges_parse_to_numbers() -> None:
    assert parse_port_range("*") == (0, 65535)
    assert parse_port_range("22") == (22, 22)
    assert parse_port_range(" 20 - 25 ") == (20, 25)
    assert parse_port_range("25-20") == (None, None)
    assert parse_port_range("70000") == (None, None)
    assert parse_port_range("http") == (None, None)


def test_rules_split_per_prefix_asg_and_port_range() -> None:
    item = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/nsg/n",
        "name": "n",
        "location": "westeurope",
        "properties": {
            "securityRules": [
                {
                    "id": "r1",
                    "name": "multi",
                    "properties": {
                        "direction": "Inbound",
                        "access": "Allow",
                        "protocol": "Tcp",
                        "priority": "150",
                        "sourceAddressPrefix": "",
                        "sourceAddressPrefixes": ["1.2.3.0/24", "0.0.0.0/0", "0.0.0.0/0"],
                        "sourceApplicationSecurityGroups": [{"id": "asg-1"}],
                        "destinationPortRanges": ["22", "8000-8100"],
                    },
                }
            ]
        },
    }
    rows = transform_security_group("s", item)[SECURITY_RULES]
    # 2 distinct prefixes + 1 ASG, times 2 port ranges; the repeated prefix is one row.
    assert len(rows) == 6
    assert {r["priority"] for r in rows} == {150}
    assert {(r["source_prefix"], r["source_asg_id"]) for r in rows} == {
        ("1.2.3.0/24", None),
        ("0.0.0.0/0", None),
        (None, "asg-1"),
    }
    assert len({r["_cq_id"] for r in rows}) == 6


def test_extension_settings_are_redacted_at_any_depth() -> None:
    settings = {
        "commandToExecute": "echo s3cr3t",
        "nested": {"storageAccountKey": "abc", "list": [{"password": "p"}, {"port": 1}]},
        "workspaceId": "w",
    }
    assert redact_settings(settings) == {
        "commandToExecute": REDACTED,
        "nested": {"storageAccountKey": REDACTED, "list": [{"password": REDACTED}, {"port": 1}]},
        "workspaceId": "w",
    }
    row = transform_vm(
        "s",
        {
            "id": "vm",
            "name": "vm",
            "resources": [
                {"id": "e", "properties": {"settings": {"script": "x"}, "protectedSettings": {}}}
            ],
        },
    )
    assert row["resources"] == [{"id": "e", "properties": {"settings": {"script": REDACTED}}}]


def test_diagnostic_settings_errors_through_the_generic_pipeline(
    arm: ArmReplay, azure_context: AzureContext, lake: Lake
) -> None:
    path = f"/subscriptions/{SUB_A}/providers/Microsoft.Insights/diagnosticSettings"
    denied = {"error": {"code": "AuthorizationFailed", "message": "no read on diagnosticSettings"}}
    arm.overrides[path] = (403, denied)
    report = sync_azure(
        lake,
        azure_context.subscriptions([SUB_A]),
        ["monitor.subscription_diagnostic_settings"],
    )
    [outcome] = report.outcomes
    assert outcome.status == STATUS_NOT_ASSESSED
    assert outcome.reason == "AuthorizationFailed (HTTP 403): no read on diagnosticSettings"
    # (Overrides carry Retry-After, which azure-core honours even on a 403: hence a set.)
    assert set(arm.paths()) == {"/subscriptions", path}
