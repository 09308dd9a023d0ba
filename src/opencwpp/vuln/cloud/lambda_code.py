"""Lambda code packages (function zip and its layers) fetched through the Lambda API.

GetFunction / GetLayerVersionByArn return a pre-signed code location; the zip is streamed into
a temporary directory with a size cap, inventoried, and deleted. Layers shared by several
functions are fetched once per run.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from opencwpp.collect.aws.session import AwsContext, credentials_error
from opencwpp.core.errors import CwppError
from opencwpp.vuln.cloud.download import (
    MAX_BYTES,
    DownloadError,
    check_aws_url,
    download,
    s3_object,
)
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.base import Package
from opencwpp.vuln.extract.walk import Inventory
from opencwpp.vuln.inventory import inventory

PERMISSIONS = ("lambda:ListFunctions", "lambda:GetFunction", "lambda:GetLayerVersion")
KIND = "AwsLambdaFunction"


class FetchError(CwppError):
    """A function or layer whose code could not be read (API refusal, download, bad zip)."""


class NotScanned(FetchError):
    """A function this scanner does not read (a container image: the ECR scanner's job)."""


def api_error(action: str, err: ClientError) -> FetchError:
    """A one-line error for an API refusal; unusable credentials raise instead (all would fail)."""
    fatal = credentials_error(err)
    if fatal is not None:
        raise fatal from None
    error = err.response.get("Error", {})
    return FetchError(f"{action} refused: {error.get('Code', '?')} ({error.get('Message', '')})")


@dataclass
class Function:
    """One function as ListFunctions/GetFunction describe it."""

    arn: str
    name: str
    region: str
    account_id: str
    runtime: str | None
    package_type: str
    layers: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, config: dict[str, Any], region: str) -> Function:
        """From a function configuration (ListFunctions item or GetFunction `Configuration`)."""
        arn = str(config["FunctionArn"])
        return cls(
            arn=arn,
            name=str(config.get("FunctionName") or arn.rsplit(":", 1)[-1]),
            region=region,
            account_id=arn.split(":")[4] if arn.count(":") >= 5 else "",
            runtime=config.get("Runtime"),
            package_type=str(config.get("PackageType") or "Zip"),
            layers=[str(layer["Arn"]) for layer in config.get("Layers") or [] if "Arn" in layer],
        )


def _zip_inventory(path: Path, label: str, max_bytes: int) -> Inventory:
    """The packages of a downloaded zip; problems name `label`, not the temporary path."""
    if not zipfile.is_zipfile(path):
        raise BadInputError(label, "the code package is not a zip")
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError) as err:
        raise BadInputError(label, f"not a readable zip ({err})") from None
    if unzipped > max_bytes:
        raise BadInputError(label, f"unzips to {unzipped} bytes, over {max_bytes} (bomb?)")
    inv = inventory(path)
    inv.problems = [
        p.replace(str(path.resolve()), label).replace(str(path), label) for p in inv.problems
    ]
    return inv


@dataclass
class CodeFetcher:
    """Fetches and inventories code packages; layer results are kept for the whole run."""

    ctx: AwsContext
    max_bytes: int = MAX_BYTES
    _layers: dict[str, tuple[list[Package], list[str]] | FetchError] = field(default_factory=dict)

    def _source(self, url: str, region: str) -> str:
        """The URL to GET: AWS's own; with an emulator, its S3 object presigned by the client.

        Emulators (moto) return unsigned virtual-hosted S3 URLs of AWS's domain; the object
        they name is then fetched from the configured endpoint, signed like AWS's own URLs.
        """
        obj = s3_object(url) if self.ctx.custom_endpoint else None
        if obj is None:
            return check_aws_url(url)
        return str(
            self.ctx.client("s3", region).generate_presigned_url(
                "get_object", Params={"Bucket": obj[0], "Key": obj[1]}, ExpiresIn=300
            )
        )

    def _scan_url(self, url: str, region: str, label: str) -> Inventory:
        with tempfile.TemporaryDirectory(prefix="cwpp-lambda-") as tmp:
            dest = Path(tmp) / "code.zip"
            try:
                download(self._source(url, region), dest, max_bytes=self.max_bytes)
                return _zip_inventory(dest, label, self.max_bytes)
            except (DownloadError, BadInputError) as err:
                raise FetchError(str(err)) from None

    def layer(self, arn: str, region: str) -> tuple[list[Package], list[str]]:
        """The packages of one layer version (tagged with its ARN as their layer) and problems."""
        if arn not in self._layers:
            try:
                answer = self.ctx.client("lambda", region).get_layer_version_by_arn(Arn=arn)
                location = (answer.get("Content") or {}).get("Location")
                if not location:
                    raise FetchError("GetLayerVersion returned no code location")
                inv = self._scan_url(str(location), region, arn)
                packages = [replace(p, layer=arn) for p in inv.packages]
                self._layers[arn] = (packages, inv.problems)
            except ClientError as err:
                self._layers[arn] = api_error("GetLayerVersion", err)
            except FetchError as err:
                self._layers[arn] = err
        found = self._layers[arn]
        if isinstance(found, FetchError):
            raise FetchError(f"layer {arn}: {found}")
        return found

    def function(self, name: str, region: str) -> tuple[Function, Inventory]:
        """GetFunction, then the function's code (FetchError when it cannot be read)."""
        try:
            answer = self.ctx.client("lambda", region).get_function(FunctionName=name)
        except ClientError as err:
            raise api_error("GetFunction", err) from None
        function = Function.of(answer["Configuration"], region)
        if function.package_type != "Zip":
            raise NotScanned("container image function: not a zip package")
        location = (answer.get("Code") or {}).get("Location")
        if not location:
            raise FetchError("GetFunction returned no code location")
        inv = self._scan_url(str(location), region, function.arn)
        inv.target, inv.kind = function.arn, KIND
        return function, inv
