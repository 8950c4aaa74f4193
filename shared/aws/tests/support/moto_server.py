"""moto's server as the kluis-aws tests run it: moto_server, plus three
changes that make moto behave like the AWS services where the tests need it.
Run as: python -c "<this file>" -H 127.0.0.1 -p PORT

1. Requests are served one at a time. moto's DynamoDB has no locks, so its
   threaded server can interleave two conditional writes to one item (the
   50-increment race once handed out count 1 twice); DynamoDB makes every
   single-item write atomic, and a serial moto does too.
2. CompleteMultipartUpload of an unknown (aborted) upload answers S3's
   NoSuchUpload instead of crashing with a 500.
3. SESv2 SendEmail records the text body and Reply-To beside the HTML body
   moto keeps, so /moto-api/data.json shows all a mail carried.
"""
import json

import moto.server as server
from moto.s3.exceptions import NoSuchUpload
from moto.s3.models import S3Backend
from moto.sesv2.responses import SESV2Response

run_simple = server.run_simple
server.run_simple = lambda *a, **k: run_simple(*a, **{**k, "threaded": False})

complete_multipart_upload = S3Backend.complete_multipart_upload


def complete_known_upload(self, bucket_name, multipart_id, body):
    if multipart_id not in self.get_bucket(bucket_name).multiparts:
        raise NoSuchUpload(upload_id=multipart_id)
    return complete_multipart_upload(self, bucket_name, multipart_id, body)


S3Backend.complete_multipart_upload = complete_known_upload

send_email = SESV2Response.send_email


def send_email_recording_all(self):
    answer = send_email(self)
    params = json.loads(self.body)
    message_id = json.loads(answer)["MessageId"]
    simple = params.get("Content", {}).get("Simple", {})
    for message in self.sesv2_backend.core_backend.sent_messages:
        if message.id == message_id:
            message.reply_to = params.get("ReplyToAddresses", [])
            message.text_body = simple.get("Body", {}).get("Text", {}).get("Data")
    return answer


SESV2Response.send_email = send_email_recording_all

server.main()
