"""EC2 network: VPCs, subnets, route tables, internet gateways, network ACLs, flow logs.

Each is one Describe* call (paginated) and one row per item; the ARN is built as CloudQuery
does (`arn:aws:ec2:<region>:<owner>:<kind>/<id>`). `aws_ec2_subnets` names its account and
region columns `request_account_id` / `request_region`, as CloudQuery's schema does. A network
ACL's entries are also split into rows of `cwpp_aws_ec2_network_acl_entries` (one per rule), so
checks never walk the JSON list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from opencwpp.collect.aws._shape import arn, columns, empty, need_region, shape, with_ids
from opencwpp.collect.base import Resource, Row, Rows, SessionContext, pages, register
from opencwpp.lake.schema import Table, cq_id, table

VPCS = table(
    "aws_ec2_vpcs",
    columns(
        """
        account_id region arn tags:json cidr_block cidr_block_association_set:json dhcp_options_id
        instance_tenancy ipv6_cidr_block_association_set:json is_default:bool owner_id state
        vpc_id
        """
    ),
    cq_id_from=["account_id", "arn"],
)
SUBNETS = table(
    "aws_ec2_subnets",
    columns(
        """
        request_account_id request_region arn tags:json assign_ipv6_address_on_creation:bool
        availability_zone availability_zone_id available_ip_address_count:int cidr_block
        customer_owned_ipv4_pool default_for_az:bool enable_dns64:bool
        enable_lni_at_device_index:int ipv6_cidr_block_association_set:json ipv6_native:bool
        map_customer_owned_ip_on_launch:bool map_public_ip_on_launch:bool outpost_arn owner_id
        private_dns_name_options_on_launch:json state subnet_arn subnet_id vpc_id
        """
    ),
    cq_id_from=["request_account_id", "request_region", "arn"],
)
ROUTE_TABLES = table(
    "aws_ec2_route_tables",
    columns(
        """
        account_id region arn tags:json associations:json owner_id propagating_vgws:json
        route_table_id routes:json vpc_id
        """
    ),
    cq_id_from=["account_id", "arn"],
)
INTERNET_GATEWAYS = table(
    "aws_ec2_internet_gateways",
    columns("account_id region arn tags:json attachments:json internet_gateway_id owner_id"),
    cq_id_from=["account_id", "arn"],
)
NETWORK_ACLS = table(
    "aws_ec2_network_acls",
    columns(
        """
        account_id region arn tags:json associations:json entries:json is_default:bool
        network_acl_id owner_id vpc_id
        """
    ),
    cq_id_from=["account_id", "arn"],
)
NETWORK_ACL_ENTRIES = table(
    "cwpp_aws_ec2_network_acl_entries",
    columns(
        """
        account_id region network_acl_arn network_acl_id vpc_id rule_number:int egress:bool
        rule_action protocol from_port:int to_port:int cidr_ipv4 cidr_ipv6
        """
    ),
    cq_id_from=["network_acl_arn", "egress", "rule_number"],
    parent="aws_ec2_network_acls",
    indexes=[("network_acl_arn",)],
    description="One row per network ACL entry; all-protocol (-1) entries leave ports NULL.",
)
FLOW_LOGS = table(
    "aws_ec2_flow_logs",
    columns(
        """
        account_id region arn tags:json creation_time:ts deliver_cross_account_role
        deliver_logs_error_message deliver_logs_permission_arn deliver_logs_status
        destination_options:json flow_log_id flow_log_status log_destination log_destination_type
        log_format log_group_name max_aggregation_interval:int resource_id traffic_type
        """
    ),
    cq_id_from=["arn"],
)


def network_acl_entries(parent: Row) -> Rows:
    """One row per entry of a network ACL row (its `entries` list), in rule order."""
    rows: list[Row] = []
    for entry in parent.get("entries") or []:
        if not isinstance(entry, Mapping):
            continue
        protocol = str(entry.get("Protocol", "-1"))
        ports = entry.get("PortRange") or {}
        all_ports = protocol == "-1" or not ports
        row: Row = {
            "_cq_parent_id": parent.get("_cq_id"),
            "account_id": parent["account_id"],
            "region": parent["region"],
            "network_acl_arn": parent["arn"],
            "network_acl_id": parent["network_acl_id"],
            "vpc_id": parent["vpc_id"],
            "rule_number": entry.get("RuleNumber"),
            "egress": bool(entry.get("Egress")),
            "rule_action": entry.get("RuleAction"),
            "protocol": protocol,
            "from_port": None if all_ports else ports.get("From"),
            "to_port": None if all_ports else ports.get("To"),
            "cidr_ipv4": entry.get("CidrBlock"),
            "cidr_ipv6": entry.get("Ipv6CidrBlock"),
        }
        row["_cq_id"] = cq_id(row, NETWORK_ACL_ENTRIES.cq_id_from)
        rows.append(row)
    rows.sort(key=lambda r: (r["egress"], r["rule_number"] or 0))
    return {NETWORK_ACL_ENTRIES: rows}


@dataclass(frozen=True, slots=True)
class Kind:
    """How one network resource kind is listed and named, and what rows it derives."""

    table: Table
    operation: str
    key: str
    id_field: str
    arn_kind: str
    derived: tuple[Table, ...] = ()
    derive: Callable[[Row], Rows] | None = None


KINDS = {
    "ec2.vpcs": Kind(VPCS, "describe_vpcs", "Vpcs", "VpcId", "vpc"),
    "ec2.subnets": Kind(SUBNETS, "describe_subnets", "Subnets", "SubnetId", "subnet"),
    "ec2.route_tables": Kind(
        ROUTE_TABLES, "describe_route_tables", "RouteTables", "RouteTableId", "route-table"
    ),
    "ec2.internet_gateways": Kind(
        INTERNET_GATEWAYS,
        "describe_internet_gateways",
        "InternetGateways",
        "InternetGatewayId",
        "internet-gateway",
    ),
    "ec2.network_acls": Kind(
        NETWORK_ACLS,
        "describe_network_acls",
        "NetworkAcls",
        "NetworkAclId",
        "network-acl",
        derived=(NETWORK_ACL_ENTRIES,),
        derive=network_acl_entries,
    ),
    "ec2.flow_logs": Kind(FLOW_LOGS, "describe_flow_logs", "FlowLogs", "FlowLogId", "vpc-flow-log"),
}


def transform(kind: Kind, account_id: str, region: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """The row of one network resource."""
    owner = str(item.get("OwnerId") or account_id)
    values: dict[str, Any] = {
        "arn": arn("ec2", region, owner, f"{kind.arn_kind}/{item[kind.id_field]}")
    }
    if kind.table is SUBNETS:
        values |= {"request_account_id": account_id, "request_region": region}
    else:
        values |= {"account_id": account_id, "region": region}
    return with_ids(kind.table, shape(kind.table, item, **values))


def _fetcher(name: str, kind: Kind) -> Any:
    def fetch(ctx: SessionContext, region: str | None) -> Iterator[Rows]:
        region = need_region(name, region)
        for page in pages(ctx.client("ec2", region), kind.operation, kind.key):
            out = empty([kind.table, *kind.derived])
            for item in page:
                row = transform(kind, ctx.account_id, region, item)
                out[kind.table].append(row)
                for tbl, rows in (kind.derive(row) if kind.derive else {}).items():
                    out[tbl].extend(rows)
            yield out

    fetch.__doc__ = f"Every {kind.table.name} row of one region, a page at a time."
    return fetch


def _permission(operation: str) -> str:
    return "ec2:" + "".join(part.capitalize() for part in operation.split("_"))


for _name, _kind in KINDS.items():
    register(
        Resource(
            name=_name,
            service="ec2",
            tables=(_kind.table, *_kind.derived),
            permissions=(_permission(_kind.operation),),
            fetch=_fetcher(_name, _kind),
            description=f"EC2 {_kind.key} of each region.",
        )
    )
