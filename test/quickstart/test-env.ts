// The quickstart's tests run with a JWT secret, as an app's test environment would set it (jest.config.js setupFiles).
process.env.JWT_SECRET ??= 'a-quickstart-test-secret-of-32-bytes';
