// What this machine allows a WebSocket fan-out whose subscribers share its cores, with no broker in the way: a writer
// process sends one message to each of N loopback TCP sockets R times a second (its threads splitting the sockets, as
// a broker's event loops do), a reader process reads them on epoll threads and records each delivery's latency from
// the message's scheduled time. --work-ns spins that long before each write: the work a broker would do per delivery
// besides the write itself. --burner-duty runs a third process busy that share of every 10 ms, like the load-test
// harness's --background-load. Prints one JSON object: latency percentiles and CPU time per delivery of each process.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16
#define BUCKET_NS 100000L            /* latency histogram: 0.1 ms buckets */
#define BUCKETS 200000               /* up to 20 s */

static int sockets = 10000, rate = 10, message_bytes = 1200, writer_threads = 2, reader_threads = 2;
static int seconds = 20, warmup_seconds = 5, work_ns = 0, burner_duty = 0;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static void sleep_until(uint64_t due) {
    uint64_t t = now_ns();
    if (t < due) {
        struct timespec d = {(time_t)((due - t) / 1000000000ull), (long)((due - t) % 1000000000ull)};
        nanosleep(&d, NULL);
    }
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* The schedule both processes share: message k of the run is due at start + k / rate. */
static uint64_t start_ns, measure_from_ns, measure_to_ns;

/* ---- reader ---- */

struct connection {
    int fd;
    int buffered;
    char buffer[8192];
};

static long histogram[BUCKETS];
static long measured;
static pthread_mutex_t histogram_lock = PTHREAD_MUTEX_INITIALIZER;
static int epoll_fds[MAX_THREADS];
static int connections_of[MAX_THREADS];
/* A reader thread stops once the writer has closed all its sockets, or at this time if the writer never finishes. */
static uint64_t reading_deadline_ns;

static void *read_loop(void *arg) {
    int epoll_fd = epoll_fds[(long)arg];
    struct epoll_event events[256];
    long *local = calloc(BUCKETS, sizeof(long));
    long count = 0;
    int open_connections = connections_of[(long)arg];
    while (open_connections > 0 && now_ns() < reading_deadline_ns) {
        int ready = epoll_wait(epoll_fd, events, 256, 100);
        for (int i = 0; i < ready; i++) {
            struct connection *c = events[i].data.ptr;
            ssize_t got;
            while ((got = read(c->fd, c->buffer + c->buffered, sizeof c->buffer - c->buffered)) > 0) {
                c->buffered += (int)got;
                uint64_t arrived = now_ns();
                int at = 0;
                for (; c->buffered - at >= message_bytes; at += message_bytes) {
                    uint64_t due;
                    memcpy(&due, c->buffer + at, sizeof due);
                    if (due >= measure_from_ns && due < measure_to_ns) {
                        long bucket = (long)((arrived - due) / BUCKET_NS);
                        local[bucket < BUCKETS ? bucket : BUCKETS - 1]++;
                        count++;
                    }
                }
                memmove(c->buffer, c->buffer + at, (size_t)(c->buffered - at));
                c->buffered -= at;
            }
            if (got == 0) {
                close(c->fd);
                open_connections--;
            }
        }
    }
    pthread_mutex_lock(&histogram_lock);
    for (int i = 0; i < BUCKETS; i++) {
        histogram[i] += local[i];
    }
    measured += count;
    pthread_mutex_unlock(&histogram_lock);
    free(local);
    return NULL;
}

static double percentile_ms(double p) {
    long rank = (long)(measured * p), seen = 0;
    if (rank >= measured) {
        rank = measured - 1;
    }
    for (int i = 0; i < BUCKETS; i++) {
        seen += histogram[i];
        if (seen > rank) {
            return (i + 1) * (BUCKET_NS / 1e6);
        }
    }
    return -1;
}

static void reader(int listener, int schedule_pipe, int result_pipe) {
    for (int i = 0; i < reader_threads; i++) {
        epoll_fds[i] = epoll_create1(0);
    }
    for (int i = 0; i < sockets; i++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            die("accept");
        }
        fcntl(fd, F_SETFL, O_NONBLOCK);
        struct connection *c = calloc(1, sizeof *c);
        c->fd = fd;
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epoll_fds[i % reader_threads], EPOLL_CTL_ADD, fd, &event);
        connections_of[i % reader_threads]++;
    }
    uint64_t schedule[3];
    if (read(schedule_pipe, schedule, sizeof schedule) != sizeof schedule) {
        die("schedule");
    }
    start_ns = schedule[0];
    measure_from_ns = schedule[1];
    measure_to_ns = schedule[2];
    reading_deadline_ns = measure_to_ns + 120000000000ull;
    double cpu_before = cpu_seconds();
    pthread_t threads[MAX_THREADS];
    for (long i = 0; i < reader_threads; i++) {
        pthread_create(&threads[i], NULL, read_loop, (void *)i);
    }
    for (int i = 0; i < reader_threads; i++) {
        pthread_join(threads[i], NULL);
    }
    double result[6] = {cpu_seconds() - cpu_before, (double)measured, percentile_ms(0.5), percentile_ms(0.99),
                        percentile_ms(0.999), percentile_ms(1.0)};
    if (write(result_pipe, result, sizeof result) != sizeof result) {
        die("result");
    }
}

/* ---- writer ---- */

static int *client_fds;

static void *write_loop(void *arg) {
    long first = (long)arg;
    char *message = malloc((size_t)message_bytes);
    memset(message, 'x', (size_t)message_bytes);
    for (long k = 0; k < (long)(warmup_seconds + seconds) * rate; k++) {
        uint64_t due = start_ns + (uint64_t)k * 1000000000ull / (uint64_t)rate;
        sleep_until(due);
        // The scheduled time, not the actual one: a writer that falls behind shows as latency.
        memcpy(message, &due, sizeof due);
        for (int i = (int)first; i < sockets; i += writer_threads) {
            if (work_ns > 0) {
                uint64_t until = now_ns() + (uint64_t)work_ns;
                while (now_ns() < until) {
                }
            }
            for (int sent = 0; sent < message_bytes;) {
                ssize_t n = write(client_fds[i], message + sent, (size_t)(message_bytes - sent));
                if (n < 0) {
                    die("write");
                }
                sent += (int)n;
            }
        }
    }
    free(message);
    return NULL;
}

static void burner(void) {
    for (;;) {
        uint64_t period = now_ns();
        while (now_ns() - period < (uint64_t)burner_duty * 100000ull) {
        }
        sleep_until(period + 10000000ull);
    }
}

static double process_cpu_seconds(pid_t pid) {
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(line, sizeof line, f) == NULL) {
        return -1;
    }
    fclose(f);
    unsigned long user = 0, system = 0;
    char *fields = strrchr(line, ')') + 2;
    sscanf(fields, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &user, &system);
    return (double)(user + system) / (double)sysconf(_SC_CLK_TCK);
}

static void usage(const char *name) {
    fprintf(stderr, "usage: %s [--sockets N] [--rate R] [--bytes B] [--writer-threads W] [--reader-threads T]\n"
            "          [--seconds S] [--warmup-seconds U] [--work-ns X] [--burner-duty PERCENT]\n", name);
    exit(2);
}

int main(int argc, char **argv) {
    static struct option options[] = {
        {"sockets", required_argument, 0, 'n'}, {"rate", required_argument, 0, 'r'},
        {"bytes", required_argument, 0, 'b'}, {"writer-threads", required_argument, 0, 'w'},
        {"reader-threads", required_argument, 0, 't'}, {"seconds", required_argument, 0, 's'},
        {"warmup-seconds", required_argument, 0, 'u'}, {"work-ns", required_argument, 0, 'x'},
        {"burner-duty", required_argument, 0, 'd'}, {0, 0, 0, 0}};
    for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        int value = atoi(optarg);
        switch (opt) {
            case 'n': sockets = value; break;
            case 'r': rate = value; break;
            case 'b': message_bytes = value; break;
            case 'w': writer_threads = value; break;
            case 't': reader_threads = value; break;
            case 's': seconds = value; break;
            case 'u': warmup_seconds = value; break;
            case 'x': work_ns = value; break;
            case 'd': burner_duty = value; break;
            default: usage(argv[0]);
        }
    }
    if (sockets < 1 || rate < 1 || message_bytes < 8 || message_bytes > 8192 || writer_threads < 1
            || writer_threads > MAX_THREADS || reader_threads < 1 || reader_threads > MAX_THREADS || seconds < 1
            || warmup_seconds < 0 || work_ns < 0 || burner_duty < 0 || burner_duty > 100) {
        usage(argv[0]);
    }
    struct rlimit files;
    getrlimit(RLIMIT_NOFILE, &files);
    if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < (rlim_t)sockets + 64) {
        fprintf(stderr, "loopback_floor: %d sockets need ulimit -n of at least %d (it is %lu)\n", sockets,
                sockets + 64, (unsigned long)files.rlim_cur);
        return 1;
    }

    // The kernel picks the listener's port: nothing else can take it between a check and the bind.
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4096) != 0
            || getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        die("listen");
    }
    int schedule_pipe[2], result_pipe[2];
    if (pipe(schedule_pipe) != 0 || pipe(result_pipe) != 0) {
        die("pipe");
    }
    pid_t reader_pid = fork();
    if (reader_pid == 0) {
        reader(listener, schedule_pipe[0], result_pipe[1]);
        return 0;
    }
    close(listener);

    client_fds = calloc((size_t)sockets, sizeof(int));
    int one = 1;
    for (int i = 0; i < sockets; i++) {
        client_fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(client_fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(client_fds[i], (struct sockaddr *)&address, sizeof address) != 0) {
            die("connect");
        }
    }
    pid_t burner_pid = 0;
    if (burner_duty > 0) {
        burner_pid = fork();
        if (burner_pid == 0) {
            burner();
        }
    }
    sleep(1);
    start_ns = now_ns() + 500000000ull;
    measure_from_ns = start_ns + (uint64_t)warmup_seconds * 1000000000ull;
    measure_to_ns = measure_from_ns + (uint64_t)seconds * 1000000000ull;
    uint64_t schedule[3] = {start_ns, measure_from_ns, measure_to_ns};
    if (write(schedule_pipe[1], schedule, sizeof schedule) != sizeof schedule) {
        die("schedule");
    }
    double writer_cpu_before = cpu_seconds(), burner_cpu_before = burner_pid ? process_cpu_seconds(burner_pid) : 0;
    pthread_t threads[MAX_THREADS];
    for (long i = 0; i < writer_threads; i++) {
        pthread_create(&threads[i], NULL, write_loop, (void *)i);
    }
    for (int i = 0; i < writer_threads; i++) {
        pthread_join(threads[i], NULL);
    }
    double writer_cpu = cpu_seconds() - writer_cpu_before;
    for (int i = 0; i < sockets; i++) {
        close(client_fds[i]);
    }
    double burner_cores = 0;
    if (burner_pid) {
        burner_cores = (process_cpu_seconds(burner_pid) - burner_cpu_before) / ((now_ns() - start_ns) / 1e9);
        kill(burner_pid, SIGKILL);
        waitpid(burner_pid, NULL, 0);
    }
    double result[6];
    if (read(result_pipe[0], result, sizeof result) != sizeof result) {
        die("reader result");
    }
    waitpid(reader_pid, NULL, 0);
    double all = (double)sockets * rate * (warmup_seconds + seconds);
    double expected = (double)sockets * rate * seconds;
    printf("{\"sockets\": %d, \"rate\": %d, \"bytes\": %d, \"writer_threads\": %d, \"reader_threads\": %d, "
           "\"seconds\": %d, \"warmup_seconds\": %d, \"work_ns\": %d, \"burner_duty\": %d, "
           "\"burner_cores\": %.2f, \"deliveries\": %.0f, \"expected_deliveries\": %.0f, "
           "\"p50_ms\": %.1f, \"p99_ms\": %.1f, \"p999_ms\": %.1f, \"max_ms\": %.1f, "
           "\"writer_cpu_us_per_delivery\": %.2f, \"reader_cpu_us_per_delivery\": %.2f}\n",
           sockets, rate, message_bytes, writer_threads, reader_threads, seconds, warmup_seconds, work_ns,
           burner_duty, burner_cores, result[1], expected, result[2], result[3], result[4], result[5],
           writer_cpu * 1e6 / all, result[0] * 1e6 / all);
    return result[1] == expected ? 0 : 1;
}
