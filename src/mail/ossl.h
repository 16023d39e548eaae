/*
 * ossl.h - the OpenSSL headers the mail layer uses, included so that OpenSSL's
 * `typedef struct err_state_st ERR_STATE` (openssl/types.h) does not collide with
 * util/err.h's ERR_STATE error code: the typedef is renamed while OpenSSL's headers are
 * read.  Include this instead of <openssl/...> in src/mail/.
 */
#ifndef TLSRPTD_MAIL_OSSL_H
#define TLSRPTD_MAIL_OSSL_H

#define ERR_STATE openssl_ERR_STATE
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#undef ERR_STATE

#endif
