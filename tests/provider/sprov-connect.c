/* sprov-connect.c: a TLS client that trusts only what a store URI yields.
 *
 *   sprov-connect URI HOST PORT
 *
 * Connects to 127.0.0.1:PORT, sends HOST as SNI, verifies the server's
 * chain against SSL_CTX_load_verify_store(URI) and its name against HOST,
 * and prints "verified HOST" (exit 0) or the verification error (exit 1).
 * It loads providers only through OPENSSL_CONF, as an ordinary OpenSSL
 * program would. */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

static SSL_CTX *
client_ctx (const char *uri)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
  if (ctx == NULL)
    return NULL;
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
  if (!SSL_CTX_load_verify_store (ctx, uri)) {
    fprintf (stderr, "cannot load the store %s\n", uri);
    SSL_CTX_free (ctx);
    return NULL;
  }
  return ctx;
}

static int
connect_and_verify (SSL_CTX *ctx, const char *host, const char *port)
{
  char target[300];
  snprintf (target, sizeof target, "127.0.0.1:%s", port);
  BIO *bio = BIO_new_ssl_connect (ctx);
  SSL *ssl = NULL;
  if (bio == NULL || BIO_get_ssl (bio, &ssl) <= 0 || ssl == NULL) {
    BIO_free_all (bio);
    return 0;
  }
  BIO_set_conn_hostname (bio, target);
  SSL_set_tlsext_host_name (ssl, host);
  SSL_set1_host (ssl, host);

  int ok = BIO_do_handshake (bio) > 0;
  long verdict = SSL_get_verify_result (ssl);
  if (ok && verdict == X509_V_OK)
    printf ("verified %s\n", host);
  else
    printf ("refused %s: %s\n", host, X509_verify_cert_error_string (verdict));
  BIO_free_all (bio);
  return ok && verdict == X509_V_OK;
}

int
main (int argc, char **argv)
{
  if (argc != 4) {
    fprintf (stderr, "usage: %s URI HOST PORT\n", argv[0]);
    return 2;
  }
  SSL_CTX *ctx = client_ctx (argv[1]);
  int ok = ctx != NULL && connect_and_verify (ctx, argv[2], argv[3]);
  if (!ok)
    ERR_print_errors_fp (stderr);
  SSL_CTX_free (ctx);
  return ok ? 0 : 1;
}
