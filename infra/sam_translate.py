"""Translates a SAM template to plain CloudFormation with aws-sam-translator,
offline, as CloudFormation's own transform would: `python sam_translate.py
TEMPLATE OUT.json`. A translator error is printed and exits non-zero.

The template names no SAM managed policy (every role is written out), so
the policy loader never has to ask IAM; one that would fails loudly.
"""

import json
import os
import sys

from cfnlint.decode import decode
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform


class OfflinePolicies:
    """A managed-policy loader that refuses to go online."""

    def load(self):
        raise SystemExit("sam_translate: the template asks for a SAM managed policy; name the role instead")


def main(source: str, target: str) -> int:
    # The translator fills AWS::Region from the session; any region will do.
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    template, errors = decode(source)
    if errors:
        for error in errors:
            print(f"sam_translate: {error}", file=sys.stderr)
        return 1
    # `sam deploy` uploads each local CodeUri and puts its S3 address in
    # the template before CloudFormation translates it; so does this, with
    # a placeholder address.
    for name, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        code = properties.get("CodeUri")
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(code, str) and not code.startswith("s3://"):
            properties["CodeUri"] = f"s3://kluis-package/{name}.zip"
    try:
        translated = transform(template, {}, OfflinePolicies())
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"sam_translate: {cause.message}", file=sys.stderr)
        return 1
    with open(target, "w", encoding="utf-8") as out:
        json.dump(translated, out, indent=1, sort_keys=True, default=str)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: sam_translate.py TEMPLATE OUT.json")
    sys.exit(main(sys.argv[1], sys.argv[2]))
