"""Privilege-escalation techniques: our own definitions, and loading a catalog file instead.

Why our own: the shared catalog (`privesc-techniques.json`) is a test input compiled from other
projects' catalogs (pathfinding.cloud and Prowler under Apache-2.0, cloudsplaining and
iam-vulnerable under MIT, Pacu under BSD-3-Clause, PMapper under AGPL-3.0); it carries no
licence of its own, and our working agreement forbids shipping shared corpora. A technique's
required actions and the service principal a passed role must trust are facts about AWS, so we
state them here ourselves, one line each, keyed by the ids the public catalogs use (for
cross-reference only), with what no catalog says and our graph needs: how the target is found
(`Model`). No names, descriptions or attributions are copied. The tests check that every
technique of the shared catalog is covered with the same actions. A user who wants another
catalog points `load_techniques` (`cwpp iam paths --techniques FILE`) at a file of that schema.

Table format: `id MODEL services actions…` (services without `.amazonaws.com`, comma-separated,
`-` for none); an indented line continues the actions of the line above.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from opencwpp.core.errors import CwppError


class TechniqueError(CwppError):
    """A technique catalog file is unreadable or malformed."""


class Model(StrEnum):
    """How a technique's target is found and what it yields (an edge to a principal or admin)."""

    SELF_USER = "SELF_USER"  # rewrite the own user's policies → admin
    SELF_ROLE = "SELF_ROLE"  # rewrite the own role's policies → admin
    SELF_GROUP = "SELF_GROUP"  # rewrite a group the user is in → admin
    SELF_POLICY = "SELF_POLICY"  # new / older version of an attached customer policy → admin
    SELF_UNBOUND = "SELF_UNBOUND"  # drop the own boundary → admin if unbounded admin
    JOIN_GROUP = "JOIN_GROUP"  # join a group → admin if the group's policies make it admin
    ACCOUNT = "ACCOUNT"  # account-wide control (Identity Center, CodeStar) → admin
    USER_CREDS = "USER_CREDS"  # credentials for another user → that user
    USER_REWRITE = "USER_REWRITE"  # rewrite another user and get its credentials → admin
    ROLE_TRUST = "ROLE_TRUST"  # rewrite a role's trust policy → that role
    ROLE_ASSUME = "ROLE_ASSUME"  # assume a role its trust policy allows → that role
    ROLE_REWRITE = "ROLE_REWRITE"  # rewrite a role it can (be made to) assume → admin
    ROLE_UNBOUND = "ROLE_UNBOUND"  # drop a role's boundary and assume it → admin if unbounded
    PASS = "PASS"  # noqa: S105 - pass a role trusting the service to a new resource → that role
    EXISTING = "EXISTING"  # take over a resource already running with a role → that role


@dataclass(frozen=True, slots=True)
class Technique:
    """One technique: every action in `actions` must be allowed on its concrete target."""

    id: str
    model: Model
    actions: tuple[str, ...]
    services: tuple[str, ...] = ()  # service principals (PASS: the passed role must trust one)
    name: str = ""

    @property
    def title(self) -> str:
        """A short label: the name, or the actions joined by `+`."""
        return self.name or " + ".join(self.actions)


_TABLE = """
apprunner-001 PASS tasks.apprunner iam:PassRole apprunner:CreateService
apprunner-002 EXISTING tasks.apprunner apprunner:UpdateService
batch-001 PASS batch,ecs-tasks iam:PassRole batch:RegisterJobDefinition batch:SubmitJob
batch-002 EXISTING ecs-tasks batch:SubmitJob
batch-003 PASS ecs-tasks iam:PassRole batch:CreateComputeEnvironment batch:CreateJobQueue
    batch:RegisterJobDefinition batch:SubmitJob
bedrock-001 PASS bedrock-agentcore iam:PassRole bedrock-agentcore:CreateCodeInterpreter
    bedrock-agentcore:StartCodeInterpreterSession bedrock-agentcore:InvokeCodeInterpreter
bedrock-002 EXISTING bedrock-agentcore bedrock-agentcore:StartCodeInterpreterSession
    bedrock-agentcore:InvokeCodeInterpreter
bedrock-003 PASS bedrock-agentcore iam:PassRole bedrock-agentcore:CreateAgentRuntime
    bedrock-agentcore:CreateAgentRuntimeEndpoint bedrock-agentcore:CreateWorkloadIdentity
    bedrock-agentcore:InvokeAgentRuntimeCommand
bedrock-004 EXISTING bedrock-agentcore bedrock-agentcore:InvokeAgentRuntimeCommand
bedrock-005 PASS bedrock-agentcore iam:PassRole bedrock-agentcore:CreateHarness
    bedrock-agentcore:CreateAgentRuntime bedrock-agentcore:CreateAgentRuntimeEndpoint
    bedrock-agentcore:CreateWorkloadIdentity bedrock-agentcore:GetAgentRuntime
    bedrock-agentcore:GetHarness bedrock-agentcore:InvokeAgentRuntimeCommand
bedrock-006 PASS bedrock-agentcore iam:PassRole bedrock-agentcore:CreateBrowser
    bedrock-agentcore:StartBrowserSession bedrock-agentcore:ConnectBrowserAutomationStream
bedrock-007 EXISTING bedrock-agentcore bedrock-agentcore:StartBrowserSession
    bedrock-agentcore:ConnectBrowserAutomationStream
braket-001 PASS braket iam:PassRole braket:CreateJob
cloudformation-001 PASS cloudformation iam:PassRole cloudformation:CreateStack
cloudformation-002 EXISTING cloudformation cloudformation:UpdateStack
cloudformation-003 PASS cloudformation iam:PassRole cloudformation:CreateStackSet
    cloudformation:CreateStackInstances
cloudformation-004 PASS cloudformation iam:PassRole cloudformation:UpdateStackSet
cloudformation-005 EXISTING cloudformation cloudformation:CreateChangeSet
    cloudformation:ExecuteChangeSet
codebuild-001 PASS codebuild iam:PassRole codebuild:CreateProject codebuild:StartBuild
codebuild-002 EXISTING codebuild codebuild:StartBuild
codebuild-003 EXISTING codebuild codebuild:StartBuildBatch
codebuild-004 PASS codebuild iam:PassRole codebuild:CreateProject codebuild:StartBuildBatch
codedeploy-001 EXISTING ec2 codedeploy:CreateDeployment
    codedeploy:RegisterApplicationRevision codedeploy:GetDeploymentConfig
cognitoidentity-001 PASS cognito-identity iam:PassRole cognito-identity:SetIdentityPoolRoles
datapipeline-001 PASS datapipeline,elasticmapreduce iam:PassRole datapipeline:CreatePipeline
    datapipeline:PutPipelineDefinition datapipeline:ActivatePipeline
ec2-001 PASS ec2 iam:PassRole ec2:RunInstances
ec2-002 EXISTING ec2 ec2:ModifyInstanceAttribute ec2:StopInstances ec2:StartInstances
ec2-003 PASS ec2 iam:PassRole ec2:RequestSpotInstances
ec2-004 EXISTING ec2 ec2:CreateLaunchTemplateVersion ec2:ModifyLaunchTemplate
ec2instanceconnect-003 EXISTING ec2 ec2-instance-connect:SendSSHPublicKey
    ec2:DescribeInstances
ecs-001 PASS ecs-tasks iam:PassRole ecs:CreateCluster ecs:RegisterTaskDefinition
    ecs:CreateService
ecs-002 PASS ecs-tasks iam:PassRole ecs:CreateCluster ecs:RegisterTaskDefinition ecs:RunTask
ecs-003 PASS ecs-tasks iam:PassRole ecs:RegisterTaskDefinition ecs:CreateService
ecs-004 PASS ecs-tasks iam:PassRole ecs:RegisterTaskDefinition ecs:RunTask
ecs-005 PASS ecs-tasks iam:PassRole ecs:RegisterTaskDefinition ecs:StartTask
ecs-006 EXISTING ecs-tasks ecs:ExecuteCommand ecs:DescribeTasks
ecs-007 PASS ecs-tasks iam:PassRole ecs:RegisterContainerInstance ecs:StartTask
ecs-008 PASS ecs-tasks iam:PassRole ecs:RunTask
ecs-009 PASS ecs-tasks iam:PassRole ecs:StartTask
emr-001 PASS ec2,elasticmapreduce iam:PassRole elasticmapreduce:RunJobFlow
emrserverless-001 PASS emr-serverless iam:PassRole emr-serverless:CreateApplication
    emr-serverless:StartJobRun
gamelift-001 PASS ec2 iam:PassRole gamelift:CreateBuild gamelift:CreateFleet
    gamelift:RequestUploadCredentials
glue-001 PASS glue iam:PassRole glue:CreateDevEndpoint
glue-002 EXISTING glue glue:UpdateDevEndpoint
glue-003 PASS glue iam:PassRole glue:CreateJob glue:StartJobRun
glue-004 PASS glue iam:PassRole glue:CreateJob glue:CreateTrigger
glue-005 PASS glue iam:PassRole glue:UpdateJob glue:StartJobRun
glue-006 PASS glue iam:PassRole glue:UpdateJob glue:CreateTrigger
glue-007 PASS glue iam:PassRole glue:CreateSession glue:RunStatement
iam-001 SELF_POLICY - iam:CreatePolicyVersion
iam-002 USER_CREDS - iam:CreateAccessKey
iam-003 USER_CREDS - iam:CreateAccessKey iam:DeleteAccessKey
iam-004 USER_CREDS - iam:CreateLoginProfile
iam-005 SELF_ROLE - iam:PutRolePolicy
iam-006 USER_CREDS - iam:UpdateLoginProfile
iam-007 SELF_USER - iam:PutUserPolicy
iam-008 SELF_USER - iam:AttachUserPolicy
iam-009 SELF_ROLE - iam:AttachRolePolicy
iam-010 SELF_GROUP - iam:AttachGroupPolicy
iam-011 SELF_GROUP - iam:PutGroupPolicy
iam-012 ROLE_TRUST - iam:UpdateAssumeRolePolicy
iam-013 JOIN_GROUP - iam:AddUserToGroup
iam-014 ROLE_REWRITE - iam:AttachRolePolicy sts:AssumeRole
iam-015 USER_REWRITE - iam:AttachUserPolicy iam:CreateAccessKey
iam-016 ROLE_REWRITE - iam:CreatePolicyVersion sts:AssumeRole
iam-017 ROLE_REWRITE - iam:PutRolePolicy sts:AssumeRole
iam-018 USER_REWRITE - iam:PutUserPolicy iam:CreateAccessKey
iam-019 ROLE_REWRITE - iam:AttachRolePolicy iam:UpdateAssumeRolePolicy
iam-020 ROLE_REWRITE - iam:CreatePolicyVersion iam:UpdateAssumeRolePolicy
iam-021 ROLE_REWRITE - iam:PutRolePolicy iam:UpdateAssumeRolePolicy
iam-022 SELF_UNBOUND - iam:DeleteUserPermissionsBoundary
iam-023 ROLE_UNBOUND - iam:DeleteRolePermissionsBoundary sts:AssumeRole
imagebuilder-001 PASS ec2 iam:PassRole imagebuilder:CreateComponent
    imagebuilder:CreateImageRecipe imagebuilder:CreateInfrastructureConfiguration
    imagebuilder:CreateImage
kinesisanalytics-001 PASS kinesisanalytics iam:PassRole kinesisanalytics:CreateApplication
    kinesisanalytics:StartApplication
lambda-001 PASS lambda iam:PassRole lambda:CreateFunction lambda:InvokeFunction
lambda-002 PASS lambda iam:PassRole lambda:CreateFunction lambda:CreateEventSourceMapping
lambda-003 EXISTING lambda lambda:UpdateFunctionCode
lambda-004 EXISTING lambda lambda:UpdateFunctionCode lambda:InvokeFunction
lambda-005 EXISTING lambda lambda:UpdateFunctionCode lambda:AddPermission
lambda-006 PASS lambda iam:PassRole lambda:CreateFunction lambda:AddPermission
omics-001 PASS omics iam:PassRole omics:CreateWorkflow omics:StartRun s3:GetObject
sagemaker-001 PASS sagemaker iam:PassRole sagemaker:CreateNotebookInstance
sagemaker-002 PASS sagemaker iam:PassRole sagemaker:CreateTrainingJob
sagemaker-003 PASS sagemaker iam:PassRole sagemaker:CreateProcessingJob
sagemaker-004 EXISTING sagemaker sagemaker:CreatePresignedNotebookInstanceUrl
sagemaker-005 EXISTING sagemaker sagemaker:CreateNotebookInstanceLifecycleConfig
    sagemaker:StopNotebookInstance sagemaker:UpdateNotebookInstance
    sagemaker:StartNotebookInstance
scheduler-001 PASS scheduler iam:PassRole scheduler:CreateSchedule
ssm-001 EXISTING ec2 ssm:StartSession
ssm-002 EXISTING ec2 ssm:SendCommand
ssm-003 PASS ssm iam:PassRole ssm:CreateDocument ssm:StartAutomationExecution
sso-001 ACCOUNT - sso:CreatePermissionSet sso:AttachManagedPolicyToPermissionSet
    sso:CreateAccountAssignment
sso-002 ACCOUNT - sso:AttachManagedPolicyToPermissionSet
sso-003 ACCOUNT - sso:PutInlinePolicyToPermissionSet
stepfunctions-001 PASS states iam:PassRole states:CreateStateMachine states:StartExecution
stepfunctions-002 EXISTING states states:UpdateStateMachine states:StartExecution
sts-001 ROLE_ASSUME - sts:AssumeRole
x-autoscaling-createlaunchconfiguration PASS ec2 iam:PassRole
    autoscaling:CreateLaunchConfiguration autoscaling:CreateAutoScalingGroup
x-autoscaling-updateautoscalinggroup PASS ec2 iam:PassRole
    autoscaling:CreateLaunchConfiguration autoscaling:UpdateAutoScalingGroup
x-codebuild-updateproject PASS codebuild iam:PassRole codebuild:UpdateProject
    codebuild:StartBuild
x-codestar-createproject-associateteammember ACCOUNT - codestar:CreateProject
    codestar:AssociateTeamMember
x-codestar-createproject-passrole PASS codestar iam:PassRole codestar:CreateProject
x-codestar-createprojectfromtemplate ACCOUNT - codestar:CreateProjectFromTemplate
x-ec2-associateiaminstanceprofile PASS ec2 iam:PassRole ec2:AssociateIamInstanceProfile
x-iam-createinstanceprofile PASS ec2 iam:PassRole iam:AddRoleToInstanceProfile
    ec2:RunInstances
x-iam-setdefaultpolicyversion SELF_POLICY - iam:SetDefaultPolicyVersion
x-lambda-passrole-updatefunctionconfiguration PASS lambda iam:PassRole
    lambda:UpdateFunctionConfiguration
x-lambda-updatefunctionconfiguration EXISTING lambda lambda:UpdateFunctionConfiguration
"""


def _parse_table(text: str) -> tuple[Technique, ...]:
    entries: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith(" "):
            entries[-1] += line.split()
        else:
            entries.append(line.split())
    out = []
    for ident, model, services, *actions in entries:
        principals = (
            () if services == "-" else tuple(f"{s}.amazonaws.com" for s in services.split(","))
        )
        out.append(Technique(ident, Model(model), tuple(actions), principals))
    return tuple(out)


TECHNIQUES: tuple[Technique, ...] = _parse_table(_TABLE)
_BY_ID = {t.id: t for t in TECHNIQUES}


def technique(ident: str) -> Technique:
    """One of our techniques by id; TechniqueError when unknown."""
    found = _BY_ID.get(ident)
    if found is None:
        raise TechniqueError(f"unknown privilege-escalation technique {ident!r}")
    return found


_CATEGORY_MODEL = {"new-passrole": Model.PASS, "existing-passrole": Model.EXISTING}


def _from_entry(entry: Any, where: str) -> Technique | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise TechniqueError(f"{where}: each technique needs a string 'id'")
    actions = entry.get("required_actions")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions) or not actions:
        raise TechniqueError(f"{where} ({entry['id']}): 'required_actions' must list actions")
    ours = _BY_ID.get(entry["id"])
    model = ours.model if ours else _CATEGORY_MODEL.get(str(entry.get("category")))
    if model is None:
        return None  # a self / principal technique we have no target model for
    services = tuple(str(s) for s in entry.get("trusted_service_principals") or ())
    if not services and ours is not None:
        services = ours.services
    if not services and model is Model.EXISTING:
        services = (f"{actions[0].split(':')[0]}.amazonaws.com",)
    name = str(entry.get("name") or "")
    return Technique(entry["id"], model, tuple(actions), services, name)


def load_techniques(path: Path) -> tuple[list[Technique], list[str]]:
    """Techniques from a catalog file (`{"techniques": [...]}`), and the ids skipped (why)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise TechniqueError(f"{path}: cannot read: {err.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise TechniqueError(f"{path}: not valid JSON: {err}") from None
    entries = data.get("techniques") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise TechniqueError(f"{path}: expected a list of techniques or {{'techniques': [...]}}")
    out: list[Technique] = []
    skipped: list[str] = []
    for i, entry in enumerate(entries):
        found = _from_entry(entry, f"{path} technique {i}")
        if found is None:
            skipped.append(f"{entry['id']}: no target model for its category")
        else:
            out.append(found)
    return out, skipped
